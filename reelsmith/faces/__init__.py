"""Faces and bodies in pictures and videos: landmarks (MediaPipe face mesh and pose), tracking
over frames, five-point alignment (for face models), piecewise-affine mesh warping,
moving-least-squares deformation and blending.
Shared by Character Swap and lip-sync."""
