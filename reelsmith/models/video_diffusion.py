"""Image-to-video diffusion models on diffusers: Wan2.2 (TI2V-5B, I2V-A14B) and LTX-Video.

One :class:`VideoDiffusion` holds one model directory in diffusers' ``from_pretrained`` layout
(``model_index.json`` and a folder per component), loads it on first use on the configured
device and precision, and turns a picture and a prompt into frames (uint8 RGB, the model's own
size and frame count). It knows nothing of tasks, prices or sound: the Image to Video pipelines
(``reelsmith/pipelines/image2video/diffusion.py``) decide what to ask for and finish the video.

torch and diffusers are imported on first use: listing an engine reads JSON only, and a host
without the ``models`` extra still runs everything else. Nothing is ever downloaded: loading is
``local_files_only``, from the operator's directory.
"""

from __future__ import annotations

import hashlib
import importlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
    read_json,
    release_memory,
    tiny_tokenizer,
    torch_module,
)

Frames = npt.NDArray[np.uint8]  # (count, height, width, 3) RGB

# Wan's own negative prompt (its model cards and generate.py), which the models were tuned with.
WAN_NEGATIVE_PROMPT = (
    "色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，JPEG压缩残留，"
    "丑陋，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，"
    "静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走"
)
LTX_NEGATIVE_PROMPT = "worst quality, inconsistent motion, blurry, jittery, distorted"


@dataclass(frozen=True)
class Architecture:
    """What one family of checkpoints needs: its diffusers classes, the components its folder
    must hold, and how it is driven (frame rate, guidance, its own frame area)."""

    name: str
    pipeline_class: str  # a diffusers pipeline class
    transformer_class: str
    components: tuple[str, ...]  # the component folders model_index.json must name
    fps: int  # the frame rate it was trained at
    guidance: float
    negative_prompt: str
    max_sequence_length: int
    native_area: int  # the frame area it makes (1280 x 720: 1280x704 where sides are multiples of 32)
    last_image: bool  # whether its pipeline takes a last frame to end on
    # model_index.json settings the pipeline must have, where the folder does not say them
    defaults: Mapping[str, object] = field(default_factory=dict)
    # settings forced whatever the folder says (TI2V-5B is WanImageToVideoPipeline with them)
    forced: Mapping[str, object] = field(default_factory=dict)
    vae_in_float32: bool = False  # Wan's VAE keeps float32 on CUDA (its model cards do so)
    # how the transformer's input channels follow from the VAE's latent channels (z)
    in_channels: Callable[[int], int] = lambda z: z

    @property
    def is_ltx(self) -> bool:
        return self.pipeline_class.startswith("LTX")


_WAN_COMPONENTS = ("scheduler", "text_encoder", "tokenizer", "transformer", "vae")

WAN_TI2V = Architecture(
    name="Wan2.2 TI2V-5B",
    pipeline_class="WanImageToVideoPipeline",
    transformer_class="WanTransformer3DModel",
    components=_WAN_COMPONENTS,
    fps=24,
    guidance=5.0,
    negative_prompt=WAN_NEGATIVE_PROMPT,
    max_sequence_length=512,
    native_area=1280 * 720,
    last_image=False,  # expand_timesteps conditions on the first frame only
    forced={"expand_timesteps": True, "boundary_ratio": None},
    vae_in_float32=True,
    in_channels=lambda z: z,  # the noisy latents, the first frame's latents masked in
)
WAN_I2V = Architecture(
    name="Wan2.2 I2V-A14B",
    pipeline_class="WanImageToVideoPipeline",
    transformer_class="WanTransformer3DModel",
    components=(*_WAN_COMPONENTS, "transformer_2"),
    fps=16,
    guidance=3.5,
    negative_prompt=WAN_NEGATIVE_PROMPT,
    max_sequence_length=512,
    native_area=1280 * 720,
    last_image=True,
    defaults={"boundary_ratio": 0.9},  # Wan2.2 I2V-A14B's switch from the high- to the low-noise expert
    forced={"expand_timesteps": False},
    vae_in_float32=True,
    in_channels=lambda z: 2 * z + 4,  # noisy latents, the condition's latents and its 4-channel mask
)
LTX_I2V = Architecture(
    name="LTX-Video",
    pipeline_class="LTXImageToVideoPipeline",
    transformer_class="LTXVideoTransformer3DModel",
    components=_WAN_COMPONENTS,
    fps=24,
    guidance=3.0,
    negative_prompt=LTX_NEGATIVE_PROMPT,
    max_sequence_length=128,
    native_area=1280 * 720,
    last_image=False,
)


class LoraError(Exception):
    """An effect's LoRA does not load into this model."""


# --- the cheap structural check --------------------------------------------------------------


def check_layout(folder: Path, architecture: Architecture) -> None:
    """Whether ``folder`` looks like ``architecture``'s checkpoint, reading only small files (see
    :func:`check_components`), its transformers of the architecture's class and taking the input
    channels its VAE's latents make. Raises :class:`WeightsError` saying what is wrong."""
    components = check_components(folder, architecture.components, architecture.name)
    transformers = [name for name in architecture.components if name.startswith("transformer")]
    for name in transformers:
        found = components[name].cls
        if found != architecture.transformer_class:
            wanted = architecture.transformer_class
            raise WeightsError(f"its {name} is a {found}, not the {wanted} of {architecture.name}")
    latent = components["vae"].config.get("z_dim")
    if architecture.is_ltx or not isinstance(latent, int):
        return
    for name in transformers:
        channels = components[name].config.get("in_channels")
        if channels != architecture.in_channels(latent):
            raise WeightsError(
                f"its {name} takes {channels} input channels where {architecture.name} takes "
                f"{architecture.in_channels(latent)}: a checkpoint of another Wan model?"
            )


# --- the model -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EffectLora:
    """An effect's LoRA: loaded into the transformer (and, for two-expert models, into the second
    one too: ``path_2`` where the effect has a file of its own for it)."""

    code: str
    path: Path
    path_2: Path | None = None
    scale: float = 1.0


@dataclass(frozen=True)
class Generation:
    """One video to make."""

    image: Frames  # (height, width, 3) uint8 RGB: the first frame, at the size to generate
    prompt: str
    negative_prompt: str
    frames: int  # of the model's form (see VideoDiffusion.frame_count)
    seed: int
    steps: int
    last_image: Frames | None = None  # the frame to end on, same size (models that take one)
    lora: EffectLora | None = None


class VideoDiffusion(DiffusersModel):
    """One model directory of ``architecture``, loaded on first use and kept for the process's
    life (:class:`DiffusersModel`)."""

    def __init__(self, folder: Path, architecture: Architecture, placement: Placement) -> None:
        super().__init__(folder, placement)
        self.architecture = architecture
        self.pipeline_class = architecture.pipeline_class
        self.vae_in_float32 = architecture.vae_in_float32
        self._adapter: str | None = None  # the effect LoRA loaded now (one at a time)

    def check(self) -> None:
        check_layout(self.folder, self.architecture)

    def load_settings(self) -> dict[str, Any]:
        """The architecture's defaults where ``model_index.json`` gives none, and what it forces."""
        index = read_json(self.folder / "model_index.json", "model_index.json")
        settings = {key: value for key, value in self.architecture.defaults.items() if index.get(key) is None}
        settings.update(self.architecture.forced)
        return settings

    # --- what the loaded model needs ---

    @property
    def temporal_multiple(self) -> int:
        """Frames come as ``k * multiple + 1`` (4 for Wan, 8 for LTX-Video)."""
        pipe = self.pipe()
        if self.architecture.is_ltx:
            return int(pipe.vae_temporal_compression_ratio)
        return int(pipe.vae_scale_factor_temporal)

    @property
    def side_multiple(self) -> int:
        """Frame sides are multiples of this (the VAE's reduction times the transformer's patch;
        at least 32 for LTX-Video, whose pipeline asks for it)."""
        pipe = self.pipe()
        if self.architecture.is_ltx:
            patch = int(pipe.transformer.config.patch_size)
            return max(32, int(pipe.vae_spatial_compression_ratio) * patch)
        transformer = pipe.transformer if pipe.transformer is not None else pipe.transformer_2
        return int(pipe.vae_scale_factor_spatial) * int(transformer.config.patch_size[1])

    def frame_count(self, needed: int) -> int:
        """The fewest frames of the model's form (``k * m + 1``) that hold ``needed``."""
        multiple = self.temporal_multiple
        return max(1, math.ceil((needed - 1) / multiple)) * multiple + 1

    def size_for(self, aspect: float, max_pixels: int | None = None) -> tuple[int, int]:
        """The frame ``(width, height)`` to generate for a picture of ``aspect`` (width / height):
        the model's own area (or ``max_pixels``, when smaller) in that shape, each side rounded
        down to the multiple the model needs."""
        area = min(self.architecture.native_area, max_pixels or self.architecture.native_area)
        multiple = self.side_multiple
        width = max(multiple, round(math.sqrt(area * aspect)) // multiple * multiple)
        height = max(multiple, round(math.sqrt(area / aspect)) // multiple * multiple)
        return width, height

    # --- generating ---

    def generate(self, request: Generation, on_step: Callable[[int, int], None]) -> Frames:
        """The frames (``request.frames`` of them, uint8 RGB at the image's size). ``on_step(done,
        total)`` is called after each denoising step; what it raises (a cancellation) stops the
        model and comes out of here. Raises :class:`OutOfMemory` or :class:`LoraError`."""
        self.load()
        pipe = self.pipe()
        torch = torch_module()
        image_module = importlib.import_module("PIL.Image")
        height, width = request.image.shape[:2]

        def step_done(pipeline: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            on_step(step + 1, int(pipeline.num_timesteps))
            return tensors

        arguments: dict[str, Any] = {
            "image": image_module.fromarray(request.image),
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt or self.architecture.negative_prompt,
            "height": height,
            "width": width,
            "num_frames": request.frames,
            "num_inference_steps": request.steps,
            "guidance_scale": self.architecture.guidance,
            # Drawn on the CPU: the same seed gives the same noise on every device.
            "generator": torch.Generator(device="cpu").manual_seed(request.seed),
            "output_type": "pt",
            "callback_on_step_end": step_done,
            "max_sequence_length": self.architecture.max_sequence_length,
        }
        if self.architecture.is_ltx:
            arguments["frame_rate"] = self.architecture.fps
            if getattr(pipe.vae.config, "timestep_conditioning", False):
                # LTX-Video 0.9.1 and later decode with a little noise (their model cards' values).
                arguments["decode_timestep"] = 0.05
                arguments["decode_noise_scale"] = 0.025
        if request.last_image is not None:
            if not self.architecture.last_image:
                raise ValueError(f"{self.architecture.name} takes no last frame")
            arguments["last_image"] = image_module.fromarray(request.last_image)
        with self._lock:
            self._use_lora(pipe, request.lora)
            try:
                with torch.inference_mode():
                    output = pipe(**arguments)
                video = output.frames[0]  # (frames, 3, height, width), floats in [0, 1]
                frames = (video.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
            except Exception as exc:
                if is_out_of_memory(exc):
                    release_memory()
                    raise OutOfMemory(
                        f"out of GPU memory while generating {request.frames} frames of {width}x{height}"
                    ) from exc
                raise
        return np.ascontiguousarray(frames)

    def _use_lora(self, pipe: Any, lora: EffectLora | None) -> None:
        """Load ``lora`` as the only effect adapter (or switch effects off for None)."""
        if lora is None:
            if self._adapter is not None:
                pipe.disable_lora()
            return
        name = "effect_" + hashlib.sha1(f"{lora.code}\0{lora.path}\0{lora.path_2}".encode()).hexdigest()[:12]
        if self._adapter != name:
            if self._adapter is not None:
                pipe.delete_adapters([self._adapter])
                self._adapter = None
            try:
                pipe.load_lora_weights(str(lora.path), adapter_name=name)
                if getattr(pipe, "transformer_2", None) is not None:
                    pipe.load_lora_weights(
                        str(lora.path_2 or lora.path), adapter_name=name, load_into_transformer_2=True
                    )
            except Exception as exc:
                try:
                    pipe.delete_adapters([name])
                except Exception:  # nothing of it was loaded
                    pass
                raise LoraError(self.said(exc, lora.path, lora.path_2)) from exc
            self._adapter = name
        pipe.enable_lora()
        pipe.set_adapters([name], [lora.scale])


# --- tiny random weights -----------------------------------------------------------------------

# Words the tiny tokenizer is trained on: any prompt still tokenizes (pieces down to characters).
_TINY_TEXT = (
    "a person smiles and turns the head while the camera slowly zooms in",
    "hair and clothes move in the wind, the cat jumps, waves roll onto the beach",
    "cinematic lighting, high detail, smooth natural motion, no blur, no distortion",
    "worst quality, inconsistent motion, blurry, jittery, distorted, static",
)


def write_tiny(folder: Path, architecture: Architecture) -> Path:
    """A checkpoint of ``architecture``'s layout with tiny random weights (the sizes of
    diffusers' own tests: a 2-layer T5/UMT5 encoder of width 32, a 3-channel VAE, a 2-layer
    transformer), written with ``save_pretrained`` into ``folder``; its videos are noise.
    Runs on the CPU in about a second; needs the models extra."""
    torch = torch_module()
    diffusers = importlib.import_module("diffusers")
    transformers = importlib.import_module("transformers")
    tokenizer = tiny_tokenizer(_TINY_TEXT)
    encoder = {**TINY_ENCODER, "vocab_size": len(tokenizer)}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        if architecture.is_ltx:
            components = _tiny_ltx(diffusers, transformers, encoder)
        else:
            components = _tiny_wan(diffusers, transformers, encoder, architecture)
        pipeline = getattr(diffusers, architecture.pipeline_class)(tokenizer=tokenizer, **components)
    folder.mkdir(parents=True, exist_ok=True)
    pipeline.save_pretrained(str(folder))
    return folder


def _tiny_wan(diffusers: Any, transformers: Any, encoder: dict[str, int], architecture: Architecture) -> dict[str, Any]:
    if architecture.forced.get("expand_timesteps"):
        # TI2V-5B: a VAE of 16x spatial reduction (patchified), 48 latent channels.
        vae = diffusers.AutoencoderKLWan(
            base_dim=3,
            z_dim=48,
            in_channels=12,
            out_channels=12,
            is_residual=True,
            patch_size=2,
            latents_mean=[0.0] * 48,
            latents_std=[1.0] * 48,
            dim_mult=[1, 1, 1, 1],
            num_res_blocks=1,
            scale_factor_spatial=16,
            scale_factor_temporal=4,
            temperal_downsample=[False, True, True],
        )
        latent = 48
    else:
        vae = diffusers.AutoencoderKLWan(
            base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
        )
        latent = 16

    def transformer() -> Any:
        return diffusers.WanTransformer3DModel(
            patch_size=(1, 2, 2),
            num_attention_heads=2,
            attention_head_dim=12,
            in_channels=architecture.in_channels(latent),
            out_channels=latent,
            text_dim=32,
            freq_dim=256,
            ffn_dim=32,
            num_layers=2,
            cross_attn_norm=True,
            qk_norm="rms_norm_across_heads",
            rope_max_seq_len=32,
        )

    two_experts = "transformer_2" in architecture.components
    return {
        "text_encoder": transformers.UMT5EncoderModel(transformers.UMT5Config(**encoder)),
        "vae": vae,
        "scheduler": diffusers.UniPCMultistepScheduler(
            prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=5.0
        ),
        "transformer": transformer(),
        "transformer_2": transformer() if two_experts else None,
        "image_encoder": None,
        "image_processor": None,
        "boundary_ratio": architecture.defaults.get("boundary_ratio") if two_experts else None,
        "expand_timesteps": bool(architecture.forced.get("expand_timesteps")),
    }


def _tiny_ltx(diffusers: Any, transformers: Any, encoder: dict[str, int]) -> dict[str, Any]:
    return {
        "text_encoder": transformers.T5EncoderModel(transformers.T5Config(**encoder)),
        "vae": diffusers.AutoencoderKLLTXVideo(
            in_channels=3,
            out_channels=3,
            latent_channels=8,
            block_out_channels=(8, 8, 8, 8),
            decoder_block_out_channels=(8, 8, 8, 8),
            layers_per_block=(1, 1, 1, 1, 1),
            decoder_layers_per_block=(1, 1, 1, 1, 1),
            spatio_temporal_scaling=(True, True, False, False),
            decoder_spatio_temporal_scaling=(True, True, False, False),
            decoder_inject_noise=(False, False, False, False, False),
            upsample_residual=(False, False, False, False),
            upsample_factor=(1, 1, 1, 1),
            timestep_conditioning=False,
            patch_size=1,
            patch_size_t=1,
            encoder_causal=True,
            decoder_causal=False,
        ),
        "scheduler": diffusers.FlowMatchEulerDiscreteScheduler(),
        "transformer": diffusers.LTXVideoTransformer3DModel(
            in_channels=8,
            out_channels=8,
            patch_size=1,
            patch_size_t=1,
            num_attention_heads=4,
            attention_head_dim=8,
            cross_attention_dim=32,
            num_layers=1,
            caption_channels=32,
        ),
    }
