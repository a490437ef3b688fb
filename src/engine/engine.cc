#include "lockstep/engine/engine.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "engine/delegates.h"
#include "lockstep/core/error.h"
#include "lockstep/model/edgetpu.h"
#include "lockstep/model/postprocess_options.h"
#include "tensorflow/lite/c/c_api.h"

namespace lockstep {

using engine::DelegatePtr;

struct Engine::State {
  // TfLiteModelCreate does not copy: the file's bytes outlive the interpreter.
  std::shared_ptr<const ModelFile> file;
  EngineInfo info;
  std::vector<std::string> messages;  // what TFLite's error reporter said during the last step

  TfLiteModel* tfl_model = nullptr;
  DelegatePtr delegate;
  TfLiteDelegate probe{};  // a delegate that takes nothing and records what the others took
  TfLiteInterpreter* interpreter = nullptr;

  State() = default;
  State(const State&) = delete;
  State& operator=(const State&) = delete;
  ~State() {
    // The interpreter goes first: it uses the delegates and the model.
    if (interpreter) TfLiteInterpreterDelete(interpreter);
    delegate.reset();
    if (tfl_model) TfLiteModelDelete(tfl_model);
  }

  const Model& model() const { return file->model(); }
  const std::string& source() const { return file->source(); }

  // The phases of Load, in order.
  DelegatePtr OpenEdgeTpu(const EngineOptions& options);
  bool Attempt(DelegatePtr delegate, int threads);
  void CreateInterpreter(DelegatePtr edgetpu, const EngineOptions& options);
  void AttemptXnnpack(const EngineOptions& options);
  void NameBuiltinOps();
};

namespace {

std::string OneLine(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  while (!s.empty() && (s.back() == ' ' || s.back() == '.')) s.pop_back();
  return s;
}

void Report(void* user, const char* format, va_list args) {
  auto* messages = static_cast<std::vector<std::string>*>(user);
  va_list copy;
  va_copy(copy, args);
  int n = std::vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  if (n <= 0) return;
  std::string s(size_t(n) + 1, '\0');
  std::vsnprintf(s.data(), s.size(), format, args);
  s.resize(size_t(n));
  messages->push_back(OneLine(std::move(s)));
}

// TFLite's own words, one line: the distinct messages, the first few of them.
std::string TfLiteWords(const std::vector<std::string>& messages) {
  std::vector<std::string> distinct;
  for (const auto& m : messages)
    if (std::find(distinct.begin(), distinct.end(), m) == distinct.end()) distinct.push_back(m);
  std::string out;
  for (size_t i = 0; i < distinct.size() && i < 3; ++i) {
    if (i) out += " / ";
    out += distinct[i];
  }
  if (distinct.size() > 3) out += " / (" + std::to_string(distinct.size() - 3) + " more)";
  return out.empty() ? "no message" : out;
}

std::string Between(const std::string& s, const std::string& start, const std::string& end) {
  size_t a = s.find(start);
  if (a == std::string::npos) return {};
  a += start.size();
  size_t b = s.find(end, a);
  return s.substr(a, b == std::string::npos ? std::string::npos : b - a);
}

// The error for a model TFLite refused, naming the op when TFLite said which one it lacks.
Error RefusedByTfLite(const std::string& source, const std::vector<std::string>& messages,
                      const std::string& step) {
  std::string version = TfLiteVersion();
  for (const auto& m : messages) {
    std::string custom = Between(m, "Encountered unresolved custom op: ", ".");
    if (!custom.empty())
      return Error(source, "operator " + custom, "an op TensorFlow Lite " + version + " can run",
                   "custom op '" + custom + "', which this TFLite lacks", "TFLite: " + m);
    std::string builtin = Between(m, "Didn't find op for builtin opcode '", "'");
    if (!builtin.empty())
      return Error(source, "operator " + builtin,
                   "an op version TensorFlow Lite " + version + " has", "one it lacks",
                   "TFLite: " + m);
  }
  return Error(source, step, "a model TensorFlow Lite " + version + " can run",
               "TFLite: " + TfLiteWords(messages));
}

// The CPU model that edgetpu_compiler was given, by the compiler's naming habit.
std::string CpuTwinHint(const std::string& source) {
  std::string generic =
      "to run on the CPU instead, use the .tflite that was given to edgetpu_compiler (usually the "
      "same name without _edgetpu)";
  const std::optional<std::filesystem::path> twin = CpuTwinPath(source);
  if (!twin) return generic;
  std::error_code ec;
  if (std::filesystem::is_regular_file(*twin, ec))
    return "to run on the CPU instead, use its CPU twin " + twin->string() +
           " (the .tflite that was given to edgetpu_compiler)";
  return generic + "; " + twin->filename().string() + " is not beside it";
}

TfLiteStatus ProbePrepare(TfLiteContext* context, TfLiteDelegate* self) {
  auto& info = *static_cast<EngineInfo*>(self->data_);
  TfLiteIntArray* plan = nullptr;
  if (context->GetExecutionPlan(context, &plan) != kTfLiteOk) return kTfLiteError;
  size_t builtin = 0;
  info.builtin_ops.clear();
  for (int i = 0; i < plan->size; ++i) {
    TfLiteNode* node = nullptr;
    TfLiteRegistration* reg = nullptr;
    if (context->GetNodeAndRegistration(context, plan->data[i], &node, &reg) != kTfLiteOk)
      return kTfLiteError;
    if (node->delegate != nullptr) continue;
    ++builtin;
    // Remaining nodes keep the model's operator index; the names are filled in from the model.
    info.builtin_ops.push_back(std::to_string(plan->data[i]));
  }
  info.delegated_ops = info.op_count >= builtin ? info.op_count - builtin : 0;
  return kTfLiteOk;
}

}  // namespace

std::string_view DelegateName(Delegate d) {
  switch (d) {
    case Delegate::kNone:
      return "builtin";
    case Delegate::kXnnpack:
      return "xnnpack";
    case Delegate::kEdgeTpu:
      return "edgetpu";
  }
  return "?";
}

std::string EngineInfo::KernelSummary() const {
  std::string ops = std::to_string(op_count) + " op" + (op_count == 1 ? "" : "s");
  if (delegate == Delegate::kNone || delegated_ops == 0) return "builtin kernels (" + ops + ")";
  std::string name = delegate == Delegate::kEdgeTpu ? "Edge TPU" : "XNNPACK";
  if (delegate == Delegate::kXnnpack)
    name += xnnpack_flags & engine::kXnnpackQU8 ? " (QS8+QU8)" : " (QS8)";
  std::string s = name + " took " + std::to_string(delegated_ops) + " of " + ops;
  if (!builtin_ops.empty()) {
    s += "; builtin kernels ran ";
    std::vector<std::string> distinct;
    for (const auto& op : builtin_ops)
      if (std::find(distinct.begin(), distinct.end(), op) == distinct.end()) distinct.push_back(op);
    for (size_t i = 0; i < distinct.size(); ++i) {
      if (i) s += ", ";
      s += distinct[i];
    }
  }
  return s;
}

Engine::Engine(std::unique_ptr<State> state) : state_(std::move(state)) {}
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;
Engine::~Engine() = default;

// The Edge TPU delegate when the model is compiled for it or the caller asks; null otherwise.
DelegatePtr Engine::State::OpenEdgeTpu(const EngineOptions& options) {
  const EdgeTpuFacts facts = ReadEdgeTpuFacts(model());
  if (!facts.compiled && !options.edgetpu) return nullptr;
  engine::EdgeTpuOpening tpu = engine::OpenEdgeTpu();
  if (!tpu.delegate) {
    if (facts.compiled)
      throw Error(source(), kEdgeTpuCustomOp, "libedgetpu.so.1 and an attached Edge TPU to run it",
                  tpu.problem,
                  "the model is compiled for the Edge TPU (" +
                      std::to_string(facts.segments.size()) + " edgetpu-custom-op), which only " +
                      "the Edge TPU can run; " + CpuTwinHint(source()));
    throw Error(source(), "--edgetpu", "libedgetpu.so.1 and an attached Edge TPU", tpu.problem,
                "run without --edgetpu to use the CPU");
  }
  if (!facts.compiled)
    info.notes.push_back(
        "the model is not compiled for the Edge TPU (no edgetpu-custom-op): "
        "every op ran on the CPU");
  info.notes.push_back("Edge TPU " + tpu.device);
  return std::move(tpu.delegate);
}

// One attempt: a fresh interpreter with `delegate` (or none), the probe after it.
bool Engine::State::Attempt(DelegatePtr with, int threads) {
  messages.clear();
  TfLiteInterpreterOptions* o = TfLiteInterpreterOptionsCreate();
  TfLiteInterpreterOptionsSetNumThreads(o, threads);
  TfLiteInterpreterOptionsSetErrorReporter(o, &Report, &messages);
  if (with) {
    TfLiteInterpreterOptionsAddDelegate(o, with.get());
    TfLiteInterpreterOptionsAddDelegate(o, &probe);
  }
  interpreter = TfLiteInterpreterCreate(tfl_model, o);
  TfLiteInterpreterOptionsDelete(o);
  if (!interpreter) return false;
  delegate = std::move(with);
  return true;
}

// XNNPACK in this TFLite takes uint8 ops (QU8) in some models and refuses whole models in
// others; signed int8 and float always go through QS8. Try the most, settle for less, and say
// what happened.
void Engine::State::AttemptXnnpack(const EngineOptions& options) {
  std::string refused_all;
  bool ok = false;
  for (uint32_t flags : {engine::kXnnpackQS8 | engine::kXnnpackQU8, engine::kXnnpackQS8}) {
    DelegatePtr x = engine::CreateXnnpackDelegate(options.threads, flags);
    if (!x) continue;
    if (Attempt(std::move(x), options.threads)) {
      ok = true;
      info.delegate = Delegate::kXnnpack;
      info.xnnpack_flags = flags;
      break;
    }
    refused_all = TfLiteWords(messages);
  }
  if (ok) {
    std::string why =
        refused_all.empty() ? "" : " (with QU8 TFLite refused the model: " + refused_all + ")";
    if (info.delegated_ops == 0) {
      info.notes.push_back("XNNPACK took none of this model's ops" + why +
                           ": it ran on the builtin kernels");
      info.delegate = Delegate::kNone;
    } else if (!refused_all.empty()) {
      info.notes.push_back("XNNPACK took the float and int8 ops only" + why +
                           ": the uint8 ops ran on the builtin kernels");
    }
    return;
  }
  if (Attempt(nullptr, options.threads))
    info.notes.push_back("XNNPACK could not take this model (TFLite: " + refused_all +
                         "): it ran on the builtin kernels");
}

void Engine::State::CreateInterpreter(DelegatePtr edgetpu, const EngineOptions& options) {
  tfl_model = TfLiteModelCreate(file->bytes().data(), file->bytes().size());
  if (!tfl_model)
    throw Error(source(), "", "a flatbuffer TensorFlow Lite's verifier accepts", "one it rejects");
  probe.data_ = &info;
  probe.Prepare = &ProbePrepare;
  probe.flags = kTfLiteDelegateFlagsAllowDynamicTensors;
  if (edgetpu) {
    if (!Attempt(std::move(edgetpu), options.threads))
      throw RefusedByTfLite(source(), messages, "Edge TPU delegate");
    info.delegate = Delegate::kEdgeTpu;
  } else if (options.xnnpack) {
    AttemptXnnpack(options);
  } else {
    Attempt(nullptr, options.threads);
  }
  if (!interpreter) throw RefusedByTfLite(source(), messages, "interpreter");
  messages.clear();
  if (TfLiteInterpreterAllocateTensors(interpreter) != kTfLiteOk)
    throw RefusedByTfLite(source(), messages, "tensors");
}

// The ops left on the builtin kernels, by name.
void Engine::State::NameBuiltinOps() {
  const auto& ops = model().subgraphs[0].operators;
  if (info.delegate == Delegate::kNone) {
    info.delegated_ops = 0;
    info.builtin_ops.clear();
    for (const auto& op : ops) info.builtin_ops.push_back(OperatorName(model(), op));
    return;
  }
  for (auto& name : info.builtin_ops) {
    size_t index = std::stoul(name);
    name = index < ops.size() ? OperatorName(model(), ops[index]) : "node " + name;
  }
}

Engine Engine::Load(const std::filesystem::path& path, const EngineOptions& options) {
  return Load(LoadModelFile(path), options);
}

Engine Engine::Load(std::vector<uint8_t> bytes, const std::string& source,
                    const EngineOptions& options) {
  if (bytes.empty()) throw Error(source, "", "a .tflite model", "an empty file");
  return Load(LoadModelBytes(std::move(bytes), source), options);
}

Engine Engine::Load(std::shared_ptr<const ModelFile> model, const EngineOptions& options) {
  const std::string& source = model->source();
  if (options.threads < 1 || options.threads > 64)
    throw Error(source, "threads", "1 to 64", std::to_string(options.threads));
  // lockstep's own reader verified the flatbuffer when the file was loaded, so a corrupt file is
  // one clear error and TFLite never sees it; it also tells what TFLite cannot (Edge TPU
  // segments).
  if (model->model().subgraphs.empty())
    throw Error(source, "subgraphs", "at least one subgraph", "none");
  // TFLite's TFLite_Detection_PostProcess kernel reads its options unchecked (a segfault on
  // missing or corrupt ones); parsing them here makes that one clear error.
  (void)FindDetectionPostprocess(model->model(), source);
  auto state = std::make_unique<State>();
  State& s = *state;
  s.file = std::move(model);
  s.info.source = source;
  s.info.tflite_version = TfLiteVersion();
  s.info.threads = options.threads;
  s.info.op_count = s.model().subgraphs[0].operators.size();
  DelegatePtr edgetpu = s.OpenEdgeTpu(options);
  s.CreateInterpreter(std::move(edgetpu), options);
  s.NameBuiltinOps();
  return Engine(std::move(state));
}

const EngineInfo& Engine::info() const { return state_->info; }
const Model& Engine::model() const { return state_->model(); }
const std::shared_ptr<const ModelFile>& Engine::model_file() const { return state_->file; }

size_t Engine::input_count() const {
  return size_t(TfLiteInterpreterGetInputTensorCount(state_->interpreter));
}
size_t Engine::output_count() const {
  return size_t(TfLiteInterpreterGetOutputTensorCount(state_->interpreter));
}

namespace {

// TfLiteType is not numbered as the schema's TensorType (float32 is 1 here, 0 there).
DType FromTfLiteType(TfLiteType t, const std::string& source, const std::string& name) {
  switch (t) {
    case kTfLiteFloat32:
      return DType::kFloat32;
    case kTfLiteInt32:
      return DType::kInt32;
    case kTfLiteUInt8:
      return DType::kUInt8;
    case kTfLiteInt64:
      return DType::kInt64;
    case kTfLiteString:
      return DType::kString;
    case kTfLiteBool:
      return DType::kBool;
    case kTfLiteInt16:
      return DType::kInt16;
    case kTfLiteComplex64:
      return DType::kComplex64;
    case kTfLiteInt8:
      return DType::kInt8;
    case kTfLiteFloat16:
      return DType::kFloat16;
    case kTfLiteFloat64:
      return DType::kFloat64;
    case kTfLiteComplex128:
      return DType::kComplex128;
    case kTfLiteUInt64:
      return DType::kUInt64;
    case kTfLiteResource:
      return DType::kResource;
    case kTfLiteVariant:
      return DType::kVariant;
    case kTfLiteUInt32:
      return DType::kUInt32;
    default:
      break;
  }
  throw Error(source, "tensor '" + name + "'", "a known TFLite type",
              std::string("type ") + TfLiteTypeGetName(t));
}

TensorView View(const TfLiteTensor* t, int index, const Model& model, const std::string& source) {
  TensorView v;
  v.index = index;
  const char* name = TfLiteTensorName(t);
  v.name = name ? name : "";
  v.dtype = FromTfLiteType(TfLiteTensorType(t), source, v.name);
  for (int d = 0; d < TfLiteTensorNumDims(t); ++d) v.shape.push_back(TfLiteTensorDim(t, d));
  const Subgraph& sg = model.subgraphs[0];
  const Tensor* mt =
      index >= 0 && size_t(index) < sg.tensors.size() ? &sg.tensors[size_t(index)] : nullptr;
  if (mt && mt->quantization && mt->quantization->per_channel()) {
    v.quantization = mt->quantization;
  } else {
    TfLiteQuantizationParams q = TfLiteTensorQuantizationParams(t);
    if (q.scale != 0.0f) {
      Quantization qq;
      qq.scale = {q.scale};
      qq.zero_point = {q.zero_point};
      v.quantization = qq;
    }
  }
  auto* data = static_cast<uint8_t*>(TfLiteTensorData(t));
  v.bytes = data ? std::span<uint8_t>(data, TfLiteTensorByteSize(t)) : std::span<uint8_t>();
  return v;
}

}  // namespace

TensorView Engine::input(size_t i) const {
  if (i >= input_count())
    throw Error(state_->info.source, "input " + std::to_string(i),
                "an index below " + std::to_string(input_count()), std::to_string(i));
  const auto& sg = state_->model().subgraphs[0];
  int index = i < sg.inputs.size() ? sg.inputs[i] : -1;
  return View(TfLiteInterpreterGetInputTensor(state_->interpreter, int32_t(i)), index,
              state_->model(), state_->info.source);
}

TensorView Engine::output(size_t i) const {
  if (i >= output_count())
    throw Error(state_->info.source, "output " + std::to_string(i),
                "an index below " + std::to_string(output_count()), std::to_string(i));
  const auto& sg = state_->model().subgraphs[0];
  int index = i < sg.outputs.size() ? sg.outputs[i] : -1;
  return View(TfLiteInterpreterGetOutputTensor(state_->interpreter, int32_t(i)), index,
              state_->model(), state_->info.source);
}

std::vector<TensorView> Engine::inputs() const {
  std::vector<TensorView> v;
  for (size_t i = 0; i < input_count(); ++i) v.push_back(input(i));
  return v;
}

std::vector<TensorView> Engine::outputs() const {
  std::vector<TensorView> v;
  for (size_t i = 0; i < output_count(); ++i) v.push_back(output(i));
  return v;
}

void Engine::SetInput(size_t i, std::span<const uint8_t> bytes, const std::string& source) {
  TensorView v = input(i);
  std::string who = source.empty() ? state_->info.source : source;
  if (bytes.size() != v.bytes.size())
    throw Error(
        who, "input " + std::to_string(i) + " '" + v.name + "'",
        std::to_string(v.bytes.size()) + " bytes (" + DescribeTensor(v.dtype, v.shape) + ")",
        std::to_string(bytes.size()) + " bytes");
  if (!bytes.empty()) std::memcpy(v.bytes.data(), bytes.data(), bytes.size());
}

void Engine::SetInput(size_t i, const TensorData& data, const std::string& source) {
  TensorView v = input(i);
  std::string who = source.empty() ? state_->info.source : source;
  if (data.dtype != v.dtype || data.shape != v.shape)
    throw Error(who, "input " + std::to_string(i) + " '" + v.name + "'",
                DescribeTensor(v.dtype, v.shape), DescribeTensor(data.dtype, data.shape));
  SetInput(i, data.bytes, source);
}

void Engine::Invoke() {
  state_->messages.clear();
  if (TfLiteInterpreterInvoke(state_->interpreter) != kTfLiteOk)
    throw Error(state_->info.source, "invoke", "a successful run",
                "TFLite: " + TfLiteWords(state_->messages));
}

TensorData Engine::CopyOutput(size_t i) const {
  TensorView v = output(i);
  TensorData t;
  t.dtype = v.dtype;
  t.shape = v.shape;
  t.bytes.assign(v.bytes.begin(), v.bytes.end());
  return t;
}

namespace {

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// float in [-1, 1) to IEEE half; exact enough for generated data (values have 11-bit mantissas).
uint16_t HalfFromUnit(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint16_t sign = uint16_t((bits >> 16) & 0x8000);
  int exp = int((bits >> 23) & 0xff) - 127 + 15;
  uint32_t mant = bits & 0x7fffff;
  if (exp <= 0) return sign;  // below half's normal range: zero is close enough
  return uint16_t(sign | uint16_t(exp << 10) | uint16_t(mant >> 13));
}

}  // namespace

TensorData GeneratedInput(const TensorView& input, size_t input_index) {
  TensorData t;
  t.dtype = input.dtype;
  t.shape = input.shape;
  size_t n = input.element_count();
  size_t size = DTypeSize(input.dtype);
  if (size == 0)
    throw Error("", "input '" + input.name + "'", "a numeric tensor",
                std::string(DTypeName(input.dtype)));
  t.bytes.resize(n * size);
  uint64_t state = kGeneratedInputSeed + input_index;
  auto unit = [&] { return float(double(SplitMix64(state) >> 40) / double(1ull << 23)) - 1.0f; };
  for (size_t i = 0; i < n; ++i) {
    uint8_t* p = t.bytes.data() + i * size;
    switch (input.dtype) {
      case DType::kFloat32: {
        float f = unit();
        std::memcpy(p, &f, 4);
        break;
      }
      case DType::kFloat64: {
        double d = unit();
        std::memcpy(p, &d, 8);
        break;
      }
      case DType::kFloat16: {
        uint16_t h = HalfFromUnit(unit());
        std::memcpy(p, &h, 2);
        break;
      }
      case DType::kBool:
        *p = uint8_t(SplitMix64(state) & 1);
        break;
      case DType::kUInt8:
      case DType::kInt8:
      case DType::kInt16:
      case DType::kUInt16: {
        uint64_t r = SplitMix64(state);
        std::memcpy(p, &r, size);  // little-endian low bytes: the full range of the type
        break;
      }
      default: {
        uint64_t r = SplitMix64(state) & 0xff;
        std::memset(p, 0, size);
        std::memcpy(p, &r, 1);
        break;
      }
    }
  }
  return t;
}

TensorView RequireImageInput(const Engine& engine) {
  std::string found;
  for (size_t i = 0; i < engine.input_count(); ++i) {
    TensorView v = engine.input(i);
    if (v.shape.size() == 4 && v.shape[0] == 1 && v.shape[1] > 0 && v.shape[2] > 0 &&
        (v.shape[3] == 1 || v.shape[3] == 3))
      return v;
    found += (found.empty() ? "" : ", ") + DescribeTensor(v.dtype, v.shape);
  }
  throw Error(engine.info().source, "inputs", "an image input [1,H,W,C] with C 1 or 3",
              found.empty() ? "no inputs" : found, "this is not an image model");
}

}  // namespace lockstep
