"""What every model adapter on diffusers shares: the checkpoint directory's cheap structural
check, where and in which precision the weights run (the ``REELSMITH_MODEL_*`` settings),
loading them once on first use, failures in words a client may read (no paths), running out of
GPU memory, and the tokenizer of the tiny random-weight checkpoints the tests write.

torch and diffusers are imported on first use, through ``importlib`` (seconds, and only where
the ``models`` extra is installed): listing an engine reads JSON only. Nothing is downloaded:
loading is ``local_files_only``, from the operator's directory.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The extra that brings torch and diffusers, for messages.
MODELS_EXTRA = "pip install 'reelsmith[models]'"
DTYPES = ("bfloat16", "float16", "float32")

# The text encoder of the tiny checkpoints (diffusers' own tests' size): a T5 / UMT5 config.
TINY_ENCODER: Mapping[str, int] = {
    "d_model": 32,
    "d_kv": 8,
    "d_ff": 37,
    "num_layers": 2,
    "num_heads": 4,
    "relative_attention_num_buckets": 8,
}


class WeightsError(Exception):
    """The weights are missing, incomplete or do not load; the message says what, without paths."""


class OutOfMemory(Exception):
    """The device ran out of memory; the message says while doing what."""


@dataclass(frozen=True)
class Placement:
    """Where and how a model runs (the ``REELSMITH_MODEL_*`` settings)."""

    device: str = "auto"  # auto (CUDA when there is one), cuda, cuda:N, cpu
    dtype: str = "bfloat16"  # on CUDA; the CPU always computes in float32
    cpu_offload: bool = False  # diffusers' model CPU offload (CUDA only)
    vae_tiling: bool = False


def torch_module() -> Any:
    """torch, imported on first use."""
    return importlib.import_module("torch")


def models_extra_missing() -> str | None:
    """What is missing for diffusers' models to run here, or None (finds the modules, imports none)."""
    needed = ("torch", "diffusers", "transformers", "ftfy")
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    return f"{', '.join(missing)} not installed ({MODELS_EXTRA})" if missing else None


# --- the cheap structural check --------------------------------------------------------------

# Where each kind of component keeps its config; every other component is a model with a
# config.json and a weights file.
CONFIG_OF: Mapping[str, tuple[str, ...]] = {
    "scheduler": ("scheduler_config.json",),
    "tokenizer": ("tokenizer_config.json", "tokenizer.json"),
    "image_processor": ("preprocessor_config.json",),
}
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".safetensors.index.json", ".bin.index.json", ".gguf")


@dataclass(frozen=True)
class Component:
    """A component of a checkpoint as its folder declares it."""

    library: str  # "diffusers", "transformers"
    cls: str  # its class, as model_index.json names it
    config: dict[str, Any]


def check_components(folder: Path, components: Iterable[str], model: str) -> dict[str, Component]:
    """Whether ``folder`` holds a diffusers checkpoint with ``components``, reading small files
    only: ``model_index.json`` parses and names each; each folder is there with its config,
    which parses, and each model has a weights file. Returns them by name; raises
    :class:`WeightsError` saying what is wrong (``model`` names the checkpoint expected)."""
    if not folder.is_dir():
        raise WeightsError("the directory does not exist")
    index = read_json(folder / "model_index.json", "model_index.json")
    found = {}
    for name in components:
        entry = index.get(name)
        if not (isinstance(entry, list) and len(entry) == 2 and all(isinstance(part, str) for part in entry)):
            raise WeightsError(f"model_index.json names no {name} (a {model} checkpoint has one)")
        part = folder / name
        if not part.is_dir():
            raise WeightsError(f"the {name} folder is missing")
        configs = CONFIG_OF.get(name, ("config.json",))
        present = [part / config for config in configs if (part / config).is_file()]
        if not present:
            raise WeightsError(f"{name}/{configs[0]} is missing")
        config = read_json(present[0], f"{name}/{present[0].name}")
        if name not in CONFIG_OF and not any(
            path.name.endswith(_WEIGHT_SUFFIXES) for path in part.iterdir() if path.is_file()
        ):
            raise WeightsError(f"the {name} folder holds no weights file")
        found[name] = Component(entry[0], entry[1], config)
    return found


def read_json(path: Path, name: str) -> dict[str, Any]:
    """A JSON object from ``path``; :class:`WeightsError` naming it as ``name`` otherwise."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WeightsError(f"{name} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsError(f"{name} does not parse ({exc.__class__.__name__})") from None
    if not isinstance(value, dict):
        raise WeightsError(f"{name} is not a JSON object")
    return value


# --- loading ---------------------------------------------------------------------------------


class DiffusersModel:
    """One checkpoint directory of a diffusers pipeline class, loaded on first use (on the
    placement's device and precision) and kept for the process's life. Subclasses say which
    class, check the folder, and may add settings to ``from_pretrained``."""

    pipeline_class: str = ""
    vae_in_float32 = True  # Wan's VAE stays in float32 on CUDA (its model cards do so)

    def __init__(self, folder: Path, placement: Placement) -> None:
        self.folder = folder
        self.placement = placement
        self.device: Any = None
        self._pipe: Any = None
        self._where = ""
        self._lock = threading.Lock()

    def check(self) -> None:
        """The cheap structural check of the folder (raises :class:`WeightsError`)."""

    def load_settings(self) -> dict[str, Any]:
        """Settings given to ``from_pretrained`` besides the folder's own."""
        return {}

    @property
    def loaded(self) -> bool:
        return self._pipe is not None

    def load(self) -> str:
        """Load the weights (once) and say where they run: "cuda:0, bfloat16" or "cpu, float32".
        Raises :class:`WeightsError` or :class:`OutOfMemory`; a failed load is tried again next
        time (the operator may have fixed the files)."""
        with self._lock:
            if self._pipe is None:
                self._pipe, self._where = self._load()
            return self._where

    def pipe(self) -> Any:
        """The loaded diffusers pipeline."""
        if self._pipe is None:
            raise RuntimeError("the model is not loaded; call load() first")
        return self._pipe

    def _load(self) -> tuple[Any, str]:
        problem = models_extra_missing()
        if problem:
            raise WeightsError(problem)
        self.check()
        torch = torch_module()
        device = self._device(torch)
        dtype = getattr(torch, self.placement.dtype) if device.type == "cuda" else torch.float32
        dtypes: object = dtype
        if self.vae_in_float32 and dtype != torch.float32:
            dtypes = {"default": dtype, "vae": torch.float32}
        diffusers = importlib.import_module("diffusers")
        # Loading bars are for notebooks: in a worker's log or `models check` they are noise.
        diffusers.utils.logging.disable_progress_bar()
        importlib.import_module("transformers").utils.logging.disable_progress_bar()
        cls = getattr(diffusers, self.pipeline_class)
        try:
            pipe = cls.from_pretrained(str(self.folder), dtype=dtypes, local_files_only=True, **self.load_settings())
            if self.placement.cpu_offload and device.type == "cuda":
                pipe.enable_model_cpu_offload(device=device)
            else:
                pipe.to(device)
        except Exception as exc:
            if is_out_of_memory(exc):
                release_memory()
                raise OutOfMemory(f"out of {device.type.upper()} memory while loading the weights") from exc
            raise WeightsError(f"the weights do not load ({self.said(exc)})") from exc
        if self.placement.vae_tiling:
            pipe.vae.enable_tiling()
        pipe.set_progress_bar_config(disable=True)
        self.device = device
        index = device.index if device.index is not None else (0 if device.type == "cuda" else None)
        where = f"{device.type}:{index}" if index is not None else device.type
        return pipe, f"{where}, {str(dtype).removeprefix('torch.')}"

    def _device(self, torch: Any) -> Any:
        if self.placement.dtype not in DTYPES:
            raise WeightsError(
                f"REELSMITH_MODEL_DTYPE must be one of {', '.join(DTYPES)}, not {self.placement.dtype!r}"
            )
        wanted = self.placement.device.strip().lower() or "auto"
        if wanted == "auto":
            wanted = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            device = torch.device(wanted)
        except (RuntimeError, TypeError) as exc:
            raise WeightsError(f"REELSMITH_MODEL_DEVICE {self.placement.device!r} is not a device") from exc
        if device.type not in ("cuda", "cpu"):
            raise WeightsError(f"REELSMITH_MODEL_DEVICE must be auto, cuda or cpu, not {self.placement.device!r}")
        if device.type == "cuda" and not torch.cuda.is_available():
            raise WeightsError("REELSMITH_MODEL_DEVICE asks for CUDA, and this host has no CUDA device torch can use")
        return device

    def said(self, exc: BaseException, *paths: Path | None) -> str:
        """An exception's words without the weights' paths, or ``paths`` but for their file
        names (failure reasons reach clients)."""
        text = " ".join(str(exc).split()) or exc.__class__.__name__
        for folder in {str(self.folder.resolve()), str(self.folder)}:
            text = text.replace(folder, "<weights>")
        for path in paths:
            if path is not None:
                text = text.replace(str(path), path.name)
        return f"{exc.__class__.__name__}: {text[:300]}"


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` says the device (or the host) ran out of memory."""
    torch = torch_module()
    oom = getattr(torch, "OutOfMemoryError", None) or getattr(torch.cuda, "OutOfMemoryError", None)
    if oom is not None and isinstance(exc, oom):
        return True
    return isinstance(exc, MemoryError) or (isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower())


def release_memory() -> None:
    """Give back what a failed run held on the GPU, so the next task starts clean."""
    torch = torch_module()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


# --- tiny random weights ---------------------------------------------------------------------


def tiny_tokenizer(texts: Iterable[str]) -> Any:
    """A T5 tokenizer built in code: a small unigram vocabulary trained with sentencepiece on
    ``texts``, given to T5Tokenizer as (piece, score) pairs. ``save_pretrained`` writes
    tokenizer.json, which loads with the tokenizers library (a folder holding only spiece.model
    does not load next to MediaPipe's protobuf)."""
    sentencepiece = importlib.import_module("sentencepiece")
    transformers = importlib.import_module("transformers")
    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(list(texts) * 8),
        model_writer=model,
        vocab_size=96,
        model_type="unigram",
        character_coverage=1.0,
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    processor = sentencepiece.SentencePieceProcessor(model_proto=model.getvalue())
    pieces = [(processor.id_to_piece(i), processor.get_score(i)) for i in range(processor.get_piece_size())]
    return transformers.T5Tokenizer(vocab=pieces, extra_ids=0)
