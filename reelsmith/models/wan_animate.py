"""Wan2.2-Animate on diffusers: a character picture made to move like a driving person.

One :class:`WanAnimateModel` holds one checkpoint directory in diffusers' ``from_pretrained``
layout (``WanAnimatePipeline``: ``model_index.json`` and the folders ``transformer``, ``vae``,
``text_encoder``, ``tokenizer``, ``image_encoder``, ``image_processor``, ``scheduler``), loads it
on first use on the configured device and precision, and turns conditioning frames into video
frames one segment at a time (:class:`AnimateRun`).

Why not one call of diffusers' pipeline for a whole clip: its ``__call__`` holds every input and
output frame of the clip as float tensors at once (a minute of 720p is tens of GB) and reports
nothing per segment. :meth:`AnimateRun.segment` is the body of that call's segment loop, step
for step (the same prompt and image encodings, the same latents from the same generator, the
same continuation: the last ``conditioning_frames`` frames of a segment, encoded again, start
the next), so a clip made segment by segment is the frames diffusers' own call makes (tested),
while the caller streams: the conditioning for the next segment is built while nothing else is
held, and each segment's frames go to the encoder before the next starts.

The model knows nothing of tasks, prices or sound, nor of what the conditioning frames show:
``reelsmith/pipelines/character_swap/wan_animate.py`` makes them. torch and diffusers are
imported on first use: listing the model reads JSON only, and a host without the ``models``
extra still runs everything else. Nothing is downloaded: loading is ``local_files_only``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from reelsmith.models.diffusers_loading import (
    TINY_ENCODER,
    DiffusersModel,
    OutOfMemory,
    Placement,
    WeightsError,
    check_components,
    is_out_of_memory,
    models_extra_missing,
    read_json,
    release_memory,
    tiny_tokenizer,
    torch_module,
)

__all__ = ["OutOfMemory", "Placement", "WeightsError", "models_extra_missing"]

Frames = npt.NDArray[np.uint8]  # (count, height, width, 3) RGB, or (count, height, width) for masks

PIPELINE_CLASS = "WanAnimatePipeline"
TRANSFORMER_CLASS = "WanAnimateTransformer3DModel"
COMPONENTS = ("scheduler", "text_encoder", "tokenizer", "transformer", "vae", "image_encoder", "image_processor")

# Wan2.2-Animate-14B's own recipe (its configs/wan_animate_14B.py): 77 frames a segment, the
# last frame of one segment starting the next, 30 fps, guidance off, and its default prompt.
SEGMENT_FRAMES = 77
CONDITIONING_FRAMES = 1
FPS = 30
DEFAULT_PROMPT = "视频中的人在做动作"  # "the person in the video is moving"
NATIVE_AREA = 1280 * 720  # the largest frame it was made for
MAX_SEQUENCE_LENGTH = 512


# --- the cheap structural check --------------------------------------------------------------


def check_layout(folder: Path) -> None:
    """Whether ``folder`` looks like a Wan2.2-Animate checkpoint, reading small files only:
    ``model_index.json`` parses and names a ``WanAnimatePipeline`` and every component, each
    component's folder and config are there and parse, each model has a weights file, and the
    transformer is Wan-Animate's with the VAE's channels. Raises :class:`WeightsError`."""
    if not folder.is_dir():
        raise WeightsError("the directory does not exist")
    index = read_json(folder / "model_index.json", "model_index.json")
    if index.get("_class_name") != PIPELINE_CLASS:
        raise WeightsError(f"model_index.json is a {index.get('_class_name')!r}, not a {PIPELINE_CLASS}")
    components = check_components(folder, COMPONENTS, "Wan2.2-Animate")
    transformer = components["transformer"]
    if transformer.cls != TRANSFORMER_CLASS:
        raise WeightsError(f"its transformer is a {transformer.cls}, not a {TRANSFORMER_CLASS}")
    latent, channels = components["vae"].config.get("z_dim"), transformer.config.get("in_channels")
    if isinstance(latent, int) and isinstance(channels, int) and channels != 2 * latent + 4:
        raise WeightsError(f"its transformer takes {channels} input channels where its VAE needs {2 * latent + 4}")


class WanAnimateModel(DiffusersModel):
    """One checkpoint directory, loaded on first use and kept for the process's life."""

    pipeline_class = PIPELINE_CLASS

    def check(self) -> None:
        check_layout(self.folder)

    # --- what the loaded model needs ---

    @property
    def face_size(self) -> int:
        """The side of the square face crops its motion encoder reads (512 for the real model)."""
        return int(self.pipe().transformer.config.motion_encoder_size)

    @property
    def side_multiple(self) -> int:
        """Frame sides are multiples of this (the VAE's reduction times the transformer's patch;
        its pipeline asks for 16)."""
        pipe = self.pipe()
        return max(16, int(pipe.vae_scale_factor_spatial) * int(pipe.transformer.config.patch_size[-1]))

    @property
    def temporal_multiple(self) -> int:
        """A segment's frame count is ``k * multiple + 1`` (4 for Wan's VAE)."""
        return int(self.pipe().vae_scale_factor_temporal)

    def start(
        self,
        image: npt.NDArray[np.uint8],
        mode: str,
        *,
        prompt: str = "",
        steps: int = 20,
        seed: int = 0,
        segment_frames: int = SEGMENT_FRAMES,
        conditioning_frames: int = CONDITIONING_FRAMES,
        generator: Any = None,
    ) -> AnimateRun:
        """A run that makes frames of ``image``'s size (H x W x 3 uint8 RGB; sides multiples of
        :attr:`side_multiple`) in ``mode`` ("animate" or "replace"), segment by segment.
        ``generator`` (a torch.Generator) overrides ``seed``."""
        self.load()
        return AnimateRun(
            self, image, mode, prompt or DEFAULT_PROMPT, steps, seed, segment_frames, conditioning_frames, generator
        )


@dataclass(frozen=True)
class Conditioning:
    """One segment's inputs, ``segment_frames`` of each, at the run's size unless said:

    - ``pose``: (T, H, W, 3) uint8, the skeleton of the person to follow on black;
    - ``face``: (T, S, S, 3) uint8, that person's face, S the model's :attr:`face_size`;
    - ``background`` (replace): (T, H, W, 3) uint8, the video with the person blacked out;
    - ``mask`` (replace): (T, H, W) uint8, 255 where the character is to be made, 0 kept.
    """

    pose: Frames
    face: Frames
    background: Frames | None = None
    mask: Frames | None = None


class AnimateRun:
    """One clip's generation: the prompt and character encoded once, then :meth:`segment` per
    segment in order (each after the first continues from the last frames of the one before)."""

    def __init__(
        self,
        model: WanAnimateModel,
        image: npt.NDArray[np.uint8],
        mode: str,
        prompt: str,
        steps: int,
        seed: int,
        segment_frames: int,
        conditioning_frames: int,
        generator: Any,
    ) -> None:
        if mode not in ("animate", "replace"):
            raise ValueError(f"mode must be animate or replace, not {mode!r}")
        torch = torch_module()
        pipe = model.pipe()
        self._pipe = pipe
        self._torch = torch
        self.mode = mode
        self.steps = steps
        self.height, self.width = int(image.shape[0]), int(image.shape[1])
        multiple = model.side_multiple
        if self.height % multiple or self.width % multiple:
            raise ValueError(f"frame sides must be multiples of {multiple}, got {self.width}x{self.height}")
        temporal = model.temporal_multiple
        if segment_frames % temporal != 1 or conditioning_frames not in (1, 5) or conditioning_frames >= segment_frames:
            raise ValueError(f"a segment is k x {temporal} + 1 frames and continues from 1 or 5 of them")
        self.segment_frames = segment_frames
        self.conditioning_frames = conditioning_frames
        self.face_size = model.face_size
        self.segments_done = 0
        self._previous: Any = None  # the last segment's decoded frames, (1, 3, T, H, W) in [-1, 1]
        # Drawn on the CPU: the same seed gives the same noise on every device.
        self._generator = generator if generator is not None else torch.Generator(device="cpu").manual_seed(seed)
        self._device = pipe._execution_device
        self._transformer_dtype = pipe.transformer.dtype
        image_module = importlib.import_module("PIL.Image")
        picture = image_module.fromarray(np.ascontiguousarray(image))
        try:
            with torch.inference_mode():
                prompt_embeds, _ = pipe.encode_prompt(
                    prompt=prompt,
                    negative_prompt=None,
                    do_classifier_free_guidance=False,  # Wan-Animate runs without guidance
                    num_videos_per_prompt=1,
                    max_sequence_length=MAX_SEQUENCE_LENGTH,
                    device=self._device,
                )
                self._prompt_embeds = prompt_embeds.to(self._transformer_dtype)
                pixels = pipe.vae_image_processor.preprocess(
                    picture, height=self.height, width=self.width, resize_mode="fill"
                ).to(self._device, dtype=torch.float32)
                self._image_embeds = pipe.encode_image(picture, self._device).to(self._transformer_dtype)
                self._reference_latents = pipe.prepare_reference_image_latents(
                    pixels, 1, generator=self._generator, device=self._device
                )
        except Exception as exc:
            self._fail(exc, "encoding the character")
            raise

    def segment(self, inputs: Conditioning, on_step: Callable[[int, int], None] | None = None) -> Frames:
        """The next segment's new frames, (T, H, W, 3) uint8: all ``segment_frames`` for the first
        segment, the ``segment_frames - conditioning_frames`` after the ones it continues from
        for the others. ``on_step(done, total)`` is called after each denoising step; what it
        raises (a cancellation) comes out of here. Raises :class:`OutOfMemory`."""
        try:
            with self._torch.inference_mode():
                return self._segment(inputs, on_step)
        except Exception as exc:
            self._fail(exc, f"generating {self.segment_frames} frames of {self.width}x{self.height}")
            raise

    def close(self) -> None:
        """Give the devices back (with CPU offload, the models go back to the CPU)."""
        self._previous = None
        self._pipe.maybe_free_model_hooks()

    def _segment(self, inputs: Conditioning, on_step: Callable[[int, int], None] | None) -> Frames:
        torch, pipe = self._torch, self._pipe
        count, height, width = self.segment_frames, self.height, self.width
        self._check(inputs)
        device, dtype = self._device, self._transformer_dtype
        first = self.segments_done == 0
        pose = _video_tensor(torch, inputs.pose).to(device)
        face = _video_tensor(torch, inputs.face).to(device, dtype=dtype)
        background = mask = None
        if self.mode == "replace":
            assert inputs.background is not None and inputs.mask is not None
            background = _video_tensor(torch, inputs.background).to(device)
            # Shrinks to the latent grid in diffusers' code; 1 = make, 0 = keep.
            mask = (torch.from_numpy(np.ascontiguousarray(inputs.mask)).float() / 255.0)[None, None].to(device)

        pipe.scheduler.set_timesteps(self.steps, device=device)
        timesteps = pipe.scheduler.timesteps
        latents = pipe.prepare_latents(
            1,
            num_channels_latents=pipe.vae.config.z_dim,
            height=height,
            width=width,
            num_frames=count,
            dtype=torch.float32,
            device=device,
            generator=self._generator,
        )
        previous = None if first else self._previous[:, :, -self.conditioning_frames :].clone()
        pose_latents = pipe.prepare_pose_latents(pose, 1, generator=self._generator, device=device).to(dtype)
        continuation = pipe.prepare_prev_segment_cond_latents(
            previous,
            background_video=background,
            mask_video=mask,
            batch_size=1,
            segment_frame_length=count,
            start_frame=0 if first else 1,  # only whether it continues matters
            height=height,
            width=width,
            prev_segment_cond_frames=self.conditioning_frames,
            task=self.mode,
            generator=self._generator,
            device=device,
        )
        reference = torch.cat([self._reference_latents, continuation], dim=2)
        total = len(timesteps)
        for done, timestep in enumerate(timesteps, start=1):
            model_input = torch.cat([latents, reference], dim=1).to(dtype)
            with pipe.transformer.cache_context("cond"):
                noise = pipe.transformer(
                    hidden_states=model_input,
                    timestep=timestep.expand(latents.shape[0]),
                    encoder_hidden_states=self._prompt_embeds,
                    encoder_hidden_states_image=self._image_embeds,
                    pose_hidden_states=pose_latents,
                    face_pixel_values=face,
                    return_dict=False,
                )[0]
            latents = pipe.scheduler.step(noise, timestep, latents, return_dict=False)[0]
            if on_step is not None:
                on_step(done, total)
        config = pipe.vae.config
        latents = latents.to(pipe.vae.dtype)
        mean = torch.tensor(config.latents_mean).view(1, config.z_dim, 1, 1, 1).to(latents.device, latents.dtype)
        std = torch.tensor(config.latents_std).view(1, config.z_dim, 1, 1, 1).to(latents.device, latents.dtype)
        latents = latents / (1.0 / std) + mean  # as diffusers writes it, to the last bit
        # The first latent frame is the character's: it is not decoded.
        decoded = pipe.vae.decode(latents[:, :, 1:], return_dict=False)[0]
        self._previous = decoded[:, :, -self.conditioning_frames :]
        self.segments_done += 1
        new = decoded if first else decoded[:, :, self.conditioning_frames :]
        frames = ((new[0].float() / 2 + 0.5).clamp(0, 1) * 255).round().to(torch.uint8)
        return np.ascontiguousarray(frames.permute(1, 2, 3, 0).cpu().numpy())

    def _check(self, inputs: Conditioning) -> None:
        count, height, width, side = self.segment_frames, self.height, self.width, self.face_size
        expected: dict[str, tuple[int, ...]] = {"pose": (count, height, width, 3), "face": (count, side, side, 3)}
        if self.mode == "replace":
            expected.update(background=(count, height, width, 3), mask=(count, height, width))
        for name, shape in expected.items():
            value = getattr(inputs, name)
            if value is None or value.shape != shape or value.dtype != np.uint8:
                got = "nothing" if value is None else f"{value.shape} {value.dtype}"
                raise ValueError(f"{name} must be {shape} uint8, got {got}")

    def _fail(self, exc: BaseException, doing: str) -> None:
        """Turn running out of memory into :class:`OutOfMemory` (the caller re-raises others)."""
        if is_out_of_memory(exc):
            self._previous = None
            release_memory()
            raise OutOfMemory(f"out of {self._device.type.upper()} memory while {doing}") from exc


def _video_tensor(torch: Any, frames: Frames) -> Any:
    """(T, H, W, 3) uint8 as diffusers' video processor makes it of PIL frames: (1, 3, T, H, W)
    float32 in [-1, 1]."""
    video = torch.from_numpy(np.ascontiguousarray(frames)).float() / 255.0
    return (video * 2.0 - 1.0).permute(3, 0, 1, 2)[None]


# --- tiny random weights -----------------------------------------------------------------------

# What the tiny tokenizer is trained on: any prompt still tokenizes (pieces down to characters).
_TINY_TEXT = (
    "the person in the video is moving, dancing, talking and turning the head",
    "a character smiles, waves a hand and walks while the camera follows",
    "视频中的人在做动作",
)


def write_tiny(folder: Path) -> Path:
    """A Wan2.2-Animate checkpoint with tiny random weights (the sizes of diffusers' own tests
    for WanAnimatePipeline: a 2-layer UMT5 encoder of width 32, a 3-channel VAE, a 2-layer
    transformer of 2 heads of 12 with a 16 px motion encoder, a 2-layer CLIP vision encoder of
    width 4; rotary tables as long as the real model's, so any frame size runs), written with
    ``save_pretrained`` into ``folder``; its videos are noise. Needs the models extra."""
    torch = torch_module()
    diffusers = importlib.import_module("diffusers")
    transformers = importlib.import_module("transformers")
    tokenizer = tiny_tokenizer(_TINY_TEXT)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        text_encoder = transformers.UMT5EncoderModel(transformers.UMT5Config(vocab_size=len(tokenizer), **TINY_ENCODER))
        vae = diffusers.AutoencoderKLWan(
            base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
        )
        transformer = diffusers.WanAnimateTransformer3DModel(
            patch_size=(1, 2, 2),
            num_attention_heads=2,
            attention_head_dim=12,
            in_channels=36,
            latent_channels=16,
            out_channels=16,
            text_dim=32,
            freq_dim=256,
            ffn_dim=32,
            num_layers=2,
            cross_attn_norm=True,
            qk_norm="rms_norm_across_heads",
            image_dim=4,
            rope_max_seq_len=1024,
            motion_encoder_channel_sizes={"4": 16, "8": 16, "16": 16},
            motion_encoder_size=16,
            motion_style_dim=8,
            motion_dim=4,
            motion_encoder_dim=16,
            face_encoder_hidden_dim=16,
            face_encoder_num_heads=2,
            inject_face_latents_blocks=2,
        )
        image_encoder = transformers.CLIPVisionModel(
            transformers.CLIPVisionConfig(
                hidden_size=4,
                projection_dim=4,
                num_hidden_layers=2,
                num_attention_heads=2,
                image_size=4,
                intermediate_size=16,
                patch_size=1,
            )
        )
        pipeline = diffusers.WanAnimatePipeline(
            tokenizer=tokenizer,
            text_encoder=text_encoder,
            vae=vae,
            scheduler=diffusers.UniPCMultistepScheduler(
                prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=5.0
            ),
            image_processor=transformers.CLIPImageProcessor(crop_size=4, size=4),
            image_encoder=image_encoder,
            transformer=transformer,
        )
    folder.mkdir(parents=True, exist_ok=True)
    pipeline.save_pretrained(str(folder))
    return folder
