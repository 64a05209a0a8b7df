"""An inswapper-128-compatible face swapper and its ArcFace embedder, on onnxruntime.

The operator's two ONNX files (docs/models.md), used as insightface uses them
(``model_zoo/inswapper.py``, ``model_zoo/arcface_onnx.py``, ``utils/face_align.py``):

- **the embedder** (ArcFace, e.g. ``w600k_r50.onnx``) takes a face aligned to the 112 px
  template (:func:`alignment_template`) as RGB scaled ``(x - 127.5) / 127.5`` (``(x - 0) / 1``
  for the old MXNet exports, whose graphs begin with their own Sub and Mul), N x 3 x 112 x 112,
  and gives a 512-d embedding; it is divided by its length;
- **the swapper** (``inswapper_128.onnx``) takes ``target``, the video's face aligned to the
  128 px template as RGB in [0, 1], 1 x 3 x 128 x 128, and ``source``, the character's
  identity: the unit embedding times ``emap`` (a 512 x 512 matrix stored as the graph's last
  initializer), made unit length again; it gives the swapped face, RGB in [0, 1], same layout.

Both run on onnxruntime's CUDA provider where ``device`` asks for it (``auto``: where this
onnxruntime has one) and on its CPU provider otherwise. Nothing here downloads anything.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

SWAP_SIDE = 128
EMBED_SIDE = 112
IDENTITY_SIZE = 512
SWAPPER_INPUTS = {"target": (1, 3, SWAP_SIDE, SWAP_SIDE), "source": (1, IDENTITY_SIZE)}
SWAPPER_OUTPUT = (1, 3, SWAP_SIDE, SWAP_SIDE)
# ArcFace's five points (eye centres, nose tip, mouth corners; left to right in the picture) in
# its 112 x 112 crop.
ARCFACE_POINTS = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366], [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32,
)
_CUDA, _CPU = "CUDAExecutionProvider", "CPUExecutionProvider"
_PRECISIONS: dict[str, type[np.floating[Any]]] = {"tensor(float)": np.float32, "tensor(float16)": np.float16}

Image = npt.NDArray[np.uint8]
Vector = npt.NDArray[np.float32]


class FaceSwapperError(RuntimeError):
    """A model file is missing or not what it should be, or a model failed; says which."""


def alignment_template(side: int) -> npt.NDArray[np.float32]:
    """The five points' places in a ``side`` x ``side`` crop, by insightface's rule: ArcFace's
    points scaled by side / 112 for multiples of 112; for multiples of 128, scaled by side / 128
    and moved 8 px (at 128) to the right."""
    if side % 112 == 0:
        return ARCFACE_POINTS * (side / 112.0)
    if side % 128 == 0:
        ratio = side / 128.0
        return ARCFACE_POINTS * ratio + np.array([8.0 * ratio, 0.0], dtype=np.float32)
    raise ValueError(f"no alignment template for {side} px crops (multiples of 112 or 128)")


# --- the cheap check: what the catalog lists ----------------------------------------------------


_checked: dict[tuple[tuple[str, int, int], ...], str | None] = {}
_checked_lock = threading.Lock()


def files_problem(swapper: Path | None, embedder: Path | None) -> str | None:
    """Why the two files cannot be the face swapper and its embedder, or None: both set, present,
    parsed as ONNX, with the inputs, outputs and shapes expected (the weights are not loaded).
    Remembered per file version (path, size, modification time)."""
    if swapper is None or embedder is None:
        missing = "REELSMITH_FACE_SWAPPER_MODEL" if swapper is None else "REELSMITH_FACE_EMBEDDER_MODEL"
        return f"{missing} is not set"
    for path in (swapper, embedder):
        if not path.is_file():
            return f"the model file {path} does not exist"
    key = _identity((swapper, embedder))
    with _checked_lock:
        if key not in _checked:
            _checked[key] = _swapper_problem(swapper) or _embedder_problem(embedder)
        return _checked[key]


def _identity(paths: tuple[Path, ...]) -> tuple[tuple[str, int, int], ...]:
    return tuple((str(path.resolve()), (stat := path.stat()).st_size, stat.st_mtime_ns) for path in paths)


def _graph(path: Path) -> Any:
    """The ONNX graph in ``path`` (external weights not read); FaceSwapperError if it is none."""
    import onnx

    try:
        return onnx.load(str(path), load_external_data=False).graph
    except Exception as exc:  # protobuf's DecodeError and friends: not an ONNX file
        raise FaceSwapperError(f"{path} is not an ONNX model ({exc.__class__.__name__})") from exc


def _dims(value: Any) -> tuple[int | None, ...]:
    """A graph input's or output's shape; None for a symbolic dimension (a batch size)."""
    return tuple(d.dim_value if d.HasField("dim_value") else None for d in value.type.tensor_type.shape.dim)


def _fits(dims: tuple[int | None, ...], expected: tuple[int, ...]) -> bool:
    return len(dims) == len(expected) and all(d is None or d == e for d, e in zip(dims, expected, strict=True))


def _inputs(graph: Any) -> dict[str, tuple[int | None, ...]]:
    weights = {initializer.name for initializer in graph.initializer}
    return {value.name: _dims(value) for value in graph.input if value.name not in weights}


def _shape(dims: tuple[int | None, ...]) -> str:
    return "x".join("?" if d is None else str(d) for d in dims)


def _swapper_problem(path: Path) -> str | None:
    try:
        graph = _graph(path)
    except FaceSwapperError as exc:
        return str(exc)
    inputs = _inputs(graph)
    for name, expected in SWAPPER_INPUTS.items():
        if name not in inputs:
            return f"{path} has no input {name!r} (an inswapper-128 model takes target and source)"
        if not _fits(inputs[name], expected):
            return f"{path}'s input {name!r} is {_shape(inputs[name])}, not {_shape(expected)}"
    if len(graph.output) != 1 or not _fits(_dims(graph.output[0]), SWAPPER_OUTPUT):
        shapes = ", ".join(_shape(_dims(output)) for output in graph.output)
        return f"{path} should give one {_shape(SWAPPER_OUTPUT)} output, not {shapes or 'none'}"
    if not graph.initializer or tuple(graph.initializer[-1].dims) != (IDENTITY_SIZE, IDENTITY_SIZE):
        return f"{path} does not end with the {IDENTITY_SIZE}x{IDENTITY_SIZE} emap matrix inswapper models store"
    return None


def _embedder_problem(path: Path) -> str | None:
    try:
        graph = _graph(path)
    except FaceSwapperError as exc:
        return str(exc)
    inputs = list(_inputs(graph).values())
    if len(inputs) != 1 or not _fits(inputs[0], (1, 3, EMBED_SIDE, EMBED_SIDE)):
        shapes = ", ".join(_shape(dims) for dims in inputs)
        return f"{path} should take one Nx3x{EMBED_SIDE}x{EMBED_SIDE} input (an ArcFace embedder), not {shapes}"
    outputs = [_dims(output) for output in graph.output]
    if len(outputs) != 1 or not outputs[0] or outputs[0][-1] != IDENTITY_SIZE:
        return f"{path} should give one {IDENTITY_SIZE}-d embedding, not {', '.join(map(_shape, outputs)) or 'none'}"
    return None


# --- the models, loaded --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Session:
    session: Any  # onnxruntime.InferenceSession
    inputs: tuple[str, ...]
    output: str
    dtype: type[np.floating[Any]]


class FaceSwapper:
    """The two models loaded on one onnxruntime provider. :func:`load_face_swapper` builds it."""

    def __init__(
        self, swapper: _Session, embedder: _Session, emap: npt.NDArray[np.float32], embed_mean: float, embed_std: float
    ) -> None:
        self._swapper = swapper
        self._embedder = embedder
        self._emap = emap
        self._embed_mean = embed_mean
        self._embed_std = embed_std
        self.provider: str = swapper.session.get_providers()[0]
        options = swapper.session.get_provider_options().get(self.provider, {})
        self.device = f"cuda:{options.get('device_id', 0)}" if self.provider == _CUDA else "cpu"
        self.precision = "float16" if swapper.dtype is np.float16 else "float32"

    @property
    def where(self) -> str:
        """Where it runs, for ``reelsmith models check``: "cpu, float32 (onnxruntime CPUExecutionProvider)"."""
        return f"{self.device}, {self.precision} (onnxruntime {self.provider})"

    def try_once(self) -> None:
        """Both models run once on blank faces (a provider can load and still fail to run)."""
        self.swap(_blank(SWAP_SIDE), self.latent(self.embed(_blank(EMBED_SIDE))))

    def embed(self, face: Image) -> Vector:
        """The unit identity embedding (512) of ``face``, 112 x 112 x 3 uint8 RGB aligned to
        :func:`alignment_template` (112)."""
        blob = (face.astype(np.float32) - self._embed_mean) / self._embed_std
        blob = blob.transpose(2, 0, 1)[None].astype(self._embedder.dtype)
        embedding = _run(self._embedder, {self._embedder.inputs[0]: blob}, "the face embedder")[0].astype(np.float32)
        return _unit(embedding.ravel())

    def latent(self, embedding: Vector) -> Vector:
        """The swapper's ``source`` for a unit embedding: through ``emap``, unit length, 1 x 512."""
        return _unit(embedding.reshape(1, -1) @ self._emap).astype(np.float32)

    def swap(self, face: Image, latent: Vector) -> Image:
        """``face`` (128 x 128 x 3 uint8 RGB aligned to :func:`alignment_template` (128)) with
        the identity ``latent`` (:meth:`latent`); the same layout."""
        target = (face.astype(np.float32) / 255.0).transpose(2, 0, 1)[None].astype(self._swapper.dtype)
        feeds = {"target": target, "source": latent.astype(self._swapper.dtype)}
        made = _run(self._swapper, feeds, "the face swapper")[0].astype(np.float32)
        swapped: Image = np.clip(made.transpose(1, 2, 0) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return swapped


def _blank(side: int) -> Image:
    return np.zeros((side, side, 3), np.uint8)


def _unit(vector: npt.NDArray[Any]) -> Vector:
    length = float(np.linalg.norm(vector))
    return (vector / max(length, 1e-12)).astype(np.float32)


def _run(session: _Session, feeds: dict[str, npt.NDArray[Any]], what: str) -> npt.NDArray[Any]:
    try:
        outputs = session.session.run([session.output], feeds)
    except Exception as exc:  # onnxruntime's own exception types (out of GPU memory among them)
        raise FaceSwapperError(f"{what} failed ({exc.__class__.__name__}: {exc})") from exc
    return np.asarray(outputs[0])


def load_face_swapper(swapper: Path | None, embedder: Path | None, device: str = "auto") -> FaceSwapper:
    """Both models checked and loaded for ``device`` (``auto``, ``cpu``, ``cuda`` or ``cuda:N``);
    FaceSwapperError with the reason when they do not load."""
    problem = files_problem(swapper, embedder)
    if problem is not None:
        raise FaceSwapperError(problem)
    assert swapper is not None and embedder is not None
    try:
        import onnx
        import onnxruntime
        from onnx import numpy_helper
    except ImportError as exc:
        raise FaceSwapperError(f"the face swapper needs {exc.name}, which is not installed") from exc
    providers = _providers(device, onnxruntime.get_available_providers())
    try:
        model = onnx.load(str(swapper))
        emap = numpy_helper.to_array(model.graph.initializer[-1]).astype(np.float32)
        del model
        first_nodes = [node.name for node in onnx.load(str(embedder)).graph.node[:8]]
        swap_session = _open(onnxruntime, swapper, providers)
        embed_session = _open(onnxruntime, embedder, providers)
    except FaceSwapperError:
        raise
    except Exception as exc:  # onnx's and onnxruntime's own exception types
        raise FaceSwapperError(f"the face swapper's models did not load ({exc.__class__.__name__}: {exc})") from exc
    if device.strip().lower().startswith("cuda") and swap_session.session.get_providers()[0] != _CUDA:
        raise FaceSwapperError(
            f"REELSMITH_MODEL_DEVICE is {device}, but onnxruntime's CUDA provider did not start "
            "(CUDA or cuDNN missing or not matching this onnxruntime-gpu)"
        )
    # insightface's rule: MXNet exports normalise inside the graph (a Sub and a Mul first).
    mxnet = any(name.startswith(("Sub", "_minus")) for name in first_nodes) and any(
        name.startswith(("Mul", "_mul")) for name in first_nodes
    )
    mean, std = (0.0, 1.0) if mxnet else (127.5, 127.5)
    return FaceSwapper(swap_session, embed_session, emap, mean, std)


def _providers(device: str, available: list[str]) -> list[Any]:
    kind, _, index = device.strip().lower().partition(":")
    if kind == "cpu":
        return [_CPU]
    if kind == "auto":
        return [_CUDA, _CPU] if _CUDA in available else [_CPU]
    if kind == "cuda":
        if _CUDA not in available:
            raise FaceSwapperError(
                f"REELSMITH_MODEL_DEVICE is {device}, but this onnxruntime has no CUDA provider "
                "(install onnxruntime-gpu on a host with CUDA, or set it to auto or cpu)"
            )
        if index and not index.isdigit():
            raise FaceSwapperError(f"REELSMITH_MODEL_DEVICE {device!r} is not auto, cpu, cuda or cuda:N")
        return [(_CUDA, {"device_id": int(index or 0)}), _CPU]
    raise FaceSwapperError(f"REELSMITH_MODEL_DEVICE {device!r} is not auto, cpu, cuda or cuda:N")


def _open(onnxruntime: Any, path: Path, providers: list[Any]) -> _Session:
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3  # inswapper's unused emap initializer is worth no warning
    # Threads sleep rather than spin between operators: a worker's cores are shared with ffmpeg.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = onnxruntime.InferenceSession(str(path), sess_options=options, providers=providers)
    kind = session.get_inputs()[0].type
    if kind not in _PRECISIONS:
        raise FaceSwapperError(f"{path} takes {kind} input, not float or float16")
    inputs = tuple(value.name for value in session.get_inputs())
    return _Session(session, inputs, session.get_outputs()[0].name, _PRECISIONS[kind])


# --- tiny random models of the same layout -------------------------------------------------------


def tiny_swapper_model(seed: int = 20) -> Any:
    """An ONNX model with inswapper-128's signature and random weights (``onnx.ModelProto``):
    ``target`` 1x3x128x128 and ``source`` 1x512 in, ``output`` 1x3x128x128 out, ``emap`` last.
    output = sigmoid(conv1x1(target) + bias(source) + texture * gain(source)): it depends on
    both inputs, and the texture (smooth random blotches) is what no colour match can undo."""
    import cv2
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    conv = 3.0 * np.eye(3, dtype=np.float32) + rng.normal(0, 0.5, (3, 3)).astype(np.float32)
    blotches = rng.normal(0, 1.5, (16, 16, 3)).astype(np.float32)
    texture = cv2.resize(blotches, (SWAP_SIDE, SWAP_SIDE), interpolation=cv2.INTER_CUBIC).transpose(2, 0, 1)[None]
    weights = {
        "conv_w": conv.reshape(3, 3, 1, 1),
        "conv_b": np.full(3, -1.5, np.float32),
        "identity_bias": rng.normal(0, 1.0, (IDENTITY_SIZE, 3)).astype(np.float32),
        "identity_gain": rng.normal(0, 1.0, (IDENTITY_SIZE, 1)).astype(np.float32),
        "texture": np.ascontiguousarray(texture),
        "bias_shape": np.array([1, 3, 1, 1], np.int64),
        "gain_shape": np.array([1, 1, 1, 1], np.int64),
        # Last, as in inswapper_128.onnx: read by the caller, used by no node.
        "emap": rng.normal(0, 1.0 / np.sqrt(IDENTITY_SIZE), (IDENTITY_SIZE, IDENTITY_SIZE)).astype(np.float32),
    }
    nodes = [
        helper.make_node("Conv", ["target", "conv_w", "conv_b"], ["mixed"]),
        helper.make_node("MatMul", ["source", "identity_bias"], ["bias_flat"]),
        helper.make_node("Reshape", ["bias_flat", "bias_shape"], ["bias"]),
        helper.make_node("MatMul", ["source", "identity_gain"], ["gain_flat"]),
        helper.make_node("Reshape", ["gain_flat", "gain_shape"], ["gain"]),
        helper.make_node("Mul", ["texture", "gain"], ["textured"]),
        helper.make_node("Add", ["mixed", "bias"], ["biased"]),
        helper.make_node("Add", ["biased", "textured"], ["logits"]),
        helper.make_node("Sigmoid", ["logits"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_inswapper_128",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)) for name, shape in SWAPPER_INPUTS.items()],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, list(SWAPPER_OUTPUT))],
        [numpy_helper.from_array(value, name) for name, value in weights.items()],
    )
    return _model(helper, graph)


def tiny_embedder_model(seed: int = 21) -> Any:
    """An ONNX model with an ArcFace embedder's signature and random weights: ``input.1``
    Nx3x112x112 in, a 512-d embedding out (16 px average pooling, then one matrix)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(seed)
    cells = 3 * (EMBED_SIDE // 16) ** 2
    weights = [numpy_helper.from_array(rng.normal(0, 1.0, (cells, IDENTITY_SIZE)).astype(np.float32), "project")]
    nodes = [
        helper.make_node("AveragePool", ["input.1"], ["pooled"], kernel_shape=[16, 16], strides=[16, 16]),
        helper.make_node("Flatten", ["pooled"], ["cells"], axis=1),
        helper.make_node("MatMul", ["cells", "project"], ["683"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_arcface",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, ["None", 3, EMBED_SIDE, EMBED_SIDE])],
        [helper.make_tensor_value_info("683", TensorProto.FLOAT, ["None", IDENTITY_SIZE])],
        weights,
    )
    return _model(helper, graph)


def _model(helper: Any, graph: Any) -> Any:
    # Opset 13 and IR 8: what every onnxruntime of the last years (GPU builds too) reads.
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="reelsmith")
    model.ir_version = 8
    return model


def write_tiny_models(folder: Path) -> tuple[Path, Path]:
    """:func:`tiny_swapper_model` and :func:`tiny_embedder_model` written into ``folder``:
    (swapper, embedder)."""
    import onnx

    folder.mkdir(parents=True, exist_ok=True)
    swapper, embedder = folder / "tiny_inswapper_128.onnx", folder / "tiny_w600k_r50.onnx"
    onnx.save(tiny_swapper_model(), str(swapper))
    onnx.save(tiny_embedder_model(), str(embedder))
    return swapper, embedder
