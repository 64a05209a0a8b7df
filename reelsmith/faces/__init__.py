"""Faces in pictures and videos: landmarks (MediaPipe face mesh), tracking over frames,
piecewise-affine mesh warping and blending. Shared by Character Swap and lip-sync."""
