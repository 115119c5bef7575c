#include "io/pickle_machine.h"

#include <cstdio>
#include <cstring>
#include <string_view>

#include "electra/util/error.h"
#include "io/binary_fields.h"

namespace electra::pickle {

namespace {

// Limits far above what any real state dict needs (ELECTRA-large: ~400 tensors, ~6000 pickle
// values); a file past them is damaged or hostile, and they keep memory bounded whatever the
// file says.
constexpr size_t kMaxValues = 2000000;   // objects one file may create
constexpr size_t kMaxStack = 1000000;    // pickle stack entries
constexpr size_t kMaxMarks = 1000;       // MARKs open at once
constexpr size_t kMaxMemo = 2000000;     // memo entries
constexpr size_t kMaxLineBytes = 1000;   // GLOBAL's module and name lines
constexpr size_t kMaxDims = 64;          // tensor rank
constexpr uint64_t kMaxElements = 1ull << 50;

bool as_int(const Value* v, int64_t& out) {
  if (v->kind != Kind::Int && v->kind != Kind::Bool) return false;
  out = v->i;
  return true;
}

std::vector<int64_t> int_tuple(const Value* v, const char* what) {
  if (v->kind != Kind::Tuple) throw Error(std::string(what) + " is " + kind_name(v->kind) + ", expected a tuple of ints");
  if (v->items.size() > kMaxDims) throw Error(std::string(what) + " has more than " + std::to_string(kMaxDims) + " dimensions");
  std::vector<int64_t> out;
  for (const Value* item : v->items) {
    int64_t x = 0;
    if (item->kind != Kind::Int || !as_int(item, x)) throw Error(std::string(what) + " holds " + kind_name(item->kind) + ", expected ints");
    out.push_back(x);
  }
  return out;
}

// Dict keys are compared by this text; state dicts only use str (and the odd int) keys.
std::string key_text(const Value* k) {
  switch (k->kind) {
    case Kind::Str: return "s" + k->s;
    case Kind::Bytes: return "y" + k->s;
    case Kind::Int: case Kind::Bool: return "i" + std::to_string(k->i);
    case Kind::BigInt: return "l" + k->s;
    case Kind::None: return "n";
    default: throw Error(std::string("a dict key is ") + kind_name(k->kind) + ": not a plain state dict");
  }
}

void dict_set(Value* dict, Value* key, Value* value) {
  const auto found = dict->index.emplace(key_text(key), dict->entries.size());
  if (found.second) {
    dict->entries.emplace_back(key, value);
  } else {
    dict->entries[found.first->second].second = value;  // Python keeps the first position
  }
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || s.size() - i < n) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

bool storage_dtype(const std::string& name, torch::ScalarType& out) {
  static const std::map<std::string, torch::ScalarType> types = {
      {"FloatStorage", torch::kFloat},   {"HalfStorage", torch::kHalf},   {"BFloat16Storage", torch::kBFloat16},
      {"DoubleStorage", torch::kDouble}, {"LongStorage", torch::kLong},   {"IntStorage", torch::kInt},
      {"ShortStorage", torch::kShort},   {"CharStorage", torch::kChar},   {"ByteStorage", torch::kByte},
      {"BoolStorage", torch::kBool},     {"UntypedStorage", torch::kByte}};
  const auto it = types.find(name);
  if (it == types.end()) return false;
  out = it->second;
  return true;
}

// torch.<dtype> globals (newer versions pass the dtype to _rebuild_tensor_v3), canonical names only.
bool dtype_global(const std::string& name, torch::ScalarType& out) {
  static const std::map<std::string, torch::ScalarType> types = {
      {"float32", torch::kFloat}, {"float16", torch::kHalf}, {"bfloat16", torch::kBFloat16},
      {"float64", torch::kDouble}, {"int64", torch::kLong}, {"int32", torch::kInt}, {"int16", torch::kShort},
      {"int8", torch::kChar}, {"uint8", torch::kByte}, {"bool", torch::kBool}};
  const auto it = types.find(name);
  if (it == types.end()) return false;
  out = it->second;
  return true;
}

// One run of the stack machine; Unpickler::load starts a fresh one for each pickle.
class Machine {
 public:
  Machine(Arena& arena, std::map<std::string, StorageRef>& declared) : arena_(arena), declared_(declared) {}

  // Runs the pickle that starts at data[pos] up to its STOP; pos then points past it.
  Value* load(const uint8_t* data, uint64_t size, uint64_t& pos, const std::string& label) {
    d_ = data;
    n_ = size;
    p_ = pos;
    stack_.clear();
    marks_.clear();
    memo_.clear();
    try {
      Value* result = run();
      pos = p_;
      return result;
    } catch (const Error& e) {
      throw Error(label + ": " + e.what() + " (at byte " + std::to_string(op_at_) + ")");
    }
  }

 private:
  // -- reading the opcode stream
  void need(uint64_t k) {
    if (k > n_ - p_) throw Error("truncated pickle");
  }
  uint64_t uint_le(int bytes) {
    need(bytes);
    uint64_t v = 0;
    for (int k = bytes - 1; k >= 0; --k) v = (v << 8) | d_[p_ + k];
    p_ += bytes;
    return v;
  }
  std::string bytes(uint64_t k) {
    need(k);
    std::string s(reinterpret_cast<const char*>(d_ + p_), k);
    p_ += k;
    return s;
  }
  std::string line() {
    for (uint64_t k = 0; k < kMaxLineBytes && p_ + k < n_; ++k) {
      if (d_[p_ + k] == '\n') {
        std::string s(reinterpret_cast<const char*>(d_ + p_), k);
        p_ += k + 1;
        return s;
      }
    }
    throw Error("GLOBAL name without an end of line");
  }

  // -- the stack; a MARK hides everything below it from pop()
  void push(Value* v) {
    if (stack_.size() >= kMaxStack) throw Error("pickle stack grows past " + std::to_string(kMaxStack) + " entries");
    stack_.push_back(v);
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  Value* top() {
    if (stack_.size() <= floor()) throw Error("pickle stack underflow");
    return stack_.back();
  }
  Value* pop() {
    Value* v = top();
    stack_.pop_back();
    return v;
  }
  std::vector<Value*> pop_mark() {
    if (marks_.empty()) throw Error("pickle has no MARK to pop");
    std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  Value* make(Kind k) { return arena_.make(k); }
  Value* make_int(int64_t i) {
    Value* v = make(Kind::Int);
    v->i = i;
    return v;
  }
  Value* make_str(std::string s, bool unicode) {
    if (unicode && !valid_utf8(s)) throw Error("a string is not valid UTF-8");
    Value* v = make(unicode ? Kind::Str : Kind::Bytes);
    v->s = std::move(s);
    return v;
  }
  Value* make_tuple(std::vector<Value*> items) {
    Value* v = make(Kind::Tuple);
    v->items = std::move(items);
    return v;
  }
  void memo_put(uint64_t index) {
    if (memo_.size() >= kMaxMemo && !memo_.count(index)) throw Error("pickle memo grows past " + std::to_string(kMaxMemo) + " entries");
    memo_[index] = top();
  }
  Value* memo_get(uint64_t index) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) throw Error("pickle refers to memo entry " + std::to_string(index) + " that was never stored");
    return it->second;
  }

  // Python's LONG: little-endian two's complement of any length.
  Value* make_long(std::string raw) {
    if (raw.size() <= 8) {
      uint64_t u = 0;
      for (size_t k = raw.size(); k-- > 0;) u = (u << 8) | static_cast<uint8_t>(raw[k]);
      if (!raw.empty() && raw.size() < 8 && (static_cast<uint8_t>(raw.back()) & 0x80)) u |= ~0ull << (8 * raw.size());
      return make_int(static_cast<int64_t>(u));
    }
    Value* v = make(Kind::BigInt);
    v->s = std::move(raw);
    return v;
  }

  Value* run() {
    while (true) {
      op_at_ = p_;
      need(1);
      const uint8_t op = d_[p_++];
      switch (op) {
        case 0x80: {  // PROTO
          need(1);
          if (d_[p_] > 5) throw Error("pickle protocol " + std::to_string(d_[p_]) + " is newer than 5");
          ++p_;
          break;
        }
        case 0x95: {  // FRAME: a length hint only
          const uint64_t len = uint_le(8);
          if (len > n_ - p_) throw Error("pickle frame runs past the end: truncated");
          break;
        }
        case '.': return pop();  // STOP
        case '(':                 // MARK
          if (marks_.size() >= kMaxMarks) throw Error("pickle nests more than " + std::to_string(kMaxMarks) + " MARKs");
          marks_.push_back(stack_.size());
          break;
        case '}': push(make(Kind::Dict)); break;
        case ']': push(make(Kind::List)); break;
        case ')': push(make(Kind::Tuple)); break;
        case 0x8f: push(make(Kind::Set)); break;  // EMPTY_SET
        case 't': push(make_tuple(pop_mark())); break;
        case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
          std::vector<Value*> items(op - 0x84);
          for (size_t k = items.size(); k-- > 0;) items[k] = pop();
          push(make_tuple(std::move(items)));
          break;
        }
        case 'J': push(make_int(static_cast<int32_t>(uint_le(4)))); break;  // BININT
        case 'K': push(make_int(static_cast<int64_t>(uint_le(1)))); break;  // BININT1
        case 'M': push(make_int(static_cast<int64_t>(uint_le(2)))); break;  // BININT2
        case 0x8a: push(make_long(bytes(uint_le(1)))); break;              // LONG1
        case 0x8b: {                                                        // LONG4
          const int64_t len = static_cast<int32_t>(uint_le(4));
          if (len < 0) throw Error("negative LONG4 length");
          push(make_long(bytes(static_cast<uint64_t>(len))));
          break;
        }
        case 'G': {  // BINFLOAT: big-endian IEEE double
          need(8);
          uint64_t bits = 0;
          for (int k = 0; k < 8; ++k) bits = (bits << 8) | d_[p_ + k];
          p_ += 8;
          Value* v = make(Kind::Float);
          std::memcpy(&v->f, &bits, 8);
          push(v);
          break;
        }
        case 'N': push(make(Kind::None)); break;
        case 0x88: case 0x89: {  // NEWTRUE, NEWFALSE
          Value* v = make(Kind::Bool);
          v->i = op == 0x88;
          push(v);
          break;
        }
        case 'X': push(make_str(bytes(uint_le(4)), true)); break;     // BINUNICODE
        case 0x8c: push(make_str(bytes(uint_le(1)), true)); break;    // SHORT_BINUNICODE
        case 0x8d: push(make_str(bytes(uint_le(8)), true)); break;    // BINUNICODE8
        case 'U': push(make_str(bytes(uint_le(1)), true)); break;     // SHORT_BINSTRING (Python 2 str)
        case 'T': {                                                   // BINSTRING
          const int64_t len = static_cast<int32_t>(uint_le(4));
          if (len < 0) throw Error("negative BINSTRING length");
          push(make_str(bytes(static_cast<uint64_t>(len)), true));
          break;
        }
        case 'C': push(make_str(bytes(uint_le(1)), false)); break;    // SHORT_BINBYTES
        case 'B': push(make_str(bytes(uint_le(4)), false)); break;    // BINBYTES
        case 0x8e: push(make_str(bytes(uint_le(8)), false)); break;   // BINBYTES8
        case 'c': {                                                   // GLOBAL
          std::string module = line();
          std::string name = line();
          push(resolve(module, name));
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          Value* name = pop();
          Value* module = pop();
          if (module->kind != Kind::Str || name->kind != Kind::Str) throw Error("STACK_GLOBAL needs two strings");
          push(resolve(module->s, name->s));
          break;
        }
        case 'R': {  // REDUCE
          Value* args = pop();
          Value* fn = pop();
          push(call(fn, args));
          break;
        }
        case 0x81: {  // NEWOBJ: cls.__new__(cls, *args), only for OrderedDict
          Value* args = pop();
          Value* cls = pop();
          if (cls->kind != Kind::Global || cls->global != Global::OrderedDict) {
            throw Error("NEWOBJ of " + printable(cls->kind == Kind::Global ? cls->s : kind_name(cls->kind)) + " is not supported");
          }
          push(call(cls, args));
          break;
        }
        case 'b': {  // BUILD: an OrderedDict's attributes (a state dict's _metadata) or a Parameter's
          Value* state = pop();
          Value* obj = top();
          (void)state;
          if (obj->kind != Kind::Dict && obj->kind != Kind::Tensor) {
            throw Error(std::string("BUILD on ") + kind_name(obj->kind) + " is not supported");
          }
          break;
        }
        case 'Q': push(persistent_load(pop())); break;  // BINPERSID
        case 'q': memo_put(uint_le(1)); break;          // BINPUT
        case 'r': memo_put(uint_le(4)); break;          // LONG_BINPUT
        case 0x94: memo_put(memo_.size()); break;       // MEMOIZE
        case 'h': push(memo_get(uint_le(1))); break;    // BINGET
        case 'j': push(memo_get(uint_le(4))); break;    // LONG_BINGET
        case 's': {                                     // SETITEM
          Value* value = pop();
          Value* key = pop();
          Value* dict = top();
          if (dict->kind != Kind::Dict) throw Error(std::string("SETITEM on ") + kind_name(dict->kind));
          dict_set(dict, key, value);
          break;
        }
        case 'u': {  // SETITEMS
          std::vector<Value*> items = pop_mark();
          Value* dict = top();
          if (dict->kind != Kind::Dict) throw Error(std::string("SETITEMS on ") + kind_name(dict->kind));
          if (items.size() % 2) throw Error("SETITEMS with an odd number of items");
          for (size_t k = 0; k < items.size(); k += 2) dict_set(dict, items[k], items[k + 1]);
          break;
        }
        case 'a': {  // APPEND
          Value* value = pop();
          Value* list = top();
          if (list->kind != Kind::List) throw Error(std::string("APPEND on ") + kind_name(list->kind));
          list->items.push_back(value);
          break;
        }
        case 'e': case 0x90: {  // APPENDS, ADDITEMS
          std::vector<Value*> items = pop_mark();
          Value* target = top();
          if (target->kind != (op == 'e' ? Kind::List : Kind::Set)) {
            throw Error(std::string(op == 'e' ? "APPENDS" : "ADDITEMS") + " on " + kind_name(target->kind));
          }
          target->items.insert(target->items.end(), items.begin(), items.end());
          break;
        }
        case 0x91: {  // FROZENSET
          Value* v = make(Kind::Set);
          v->items = pop_mark();
          push(v);
          break;
        }
        case '0':  // POP (a MARK when nothing is above it, as Python does)
          if (stack_.size() > floor()) {
            stack_.pop_back();
          } else {
            pop_mark();
          }
          break;
        case '1': pop_mark(); break;  // POP_MARK
        case '2': push(top()); break;  // DUP
        default: {
          char buf[8];
          std::snprintf(buf, sizeof buf, "0x%02x", op);
          throw Error(std::string("unsupported pickle opcode ") + buf + ": not a state dict written by torch.save");
        }
      }
    }
  }

  Value* resolve(const std::string& module, const std::string& name) {
    Value* v = make(Kind::Global);
    v->s = module + "." + name;
    if (module == "collections" && name == "OrderedDict") {
      v->global = Global::OrderedDict;
    } else if (module == "torch._utils" && name == "_rebuild_tensor_v2") {
      v->global = Global::RebuildTensorV2;
    } else if (module == "torch._utils" && name == "_rebuild_tensor_v3") {
      v->global = Global::RebuildTensorV3;
    } else if (module == "torch._utils" && name == "_rebuild_tensor") {
      v->global = Global::RebuildTensor;
    } else if (module == "torch._utils" && name == "_rebuild_parameter") {
      v->global = Global::RebuildParameter;
    } else if (module == "torch._utils" && name == "_rebuild_parameter_with_state") {
      v->global = Global::RebuildParameterWithState;
    } else if ((module == "torch" || (module == "torch.storage" && name == "UntypedStorage")) &&
               storage_dtype(name, v->dtype)) {
      v->global = Global::StorageType;
    } else if (module == "torch" && dtype_global(name, v->dtype)) {
      v->global = Global::DType;
    } else {
      throw Error("refuses to load " + printable(v->s) + " (only plain state dicts are read; nothing in the file is executed)");
    }
    return v;
  }

  // ('storage', storage_type, key, location, numel[, view_metadata]): view_metadata is the
  // legacy format's (view_key, offset, size) or None.
  Value* persistent_load(const Value* pid) {
    if (pid->kind != Kind::Tuple || (pid->items.size() != 5 && pid->items.size() != 6) ||
        pid->items[0]->kind != Kind::Str || pid->items[0]->s != "storage") {
      throw Error("persistent id is not ('storage', type, key, location, size): not a torch.save file");
    }
    const Value* type = pid->items[1];
    const Value* key = pid->items[2];
    int64_t numel = 0;
    if (type->kind != Kind::Global || type->global != Global::StorageType) throw Error("persistent id names no storage type");
    if (key->kind != Kind::Str || key->s.empty() || key->s.size() > 256) throw Error("persistent id has no usable storage key");
    if (pid->items[3]->kind != Kind::Str) throw Error("persistent id's location is not a string");
    if (!as_int(pid->items[4], numel) || numel < 0 || static_cast<uint64_t>(numel) > kMaxElements) {
      throw Error("storage '" + printable(key->s) + "' has an impossible size");
    }
    auto ref = std::make_unique<StorageRef>();
    ref->key = key->s;
    ref->dtype = type->dtype;
    ref->numel = numel;
    ref->view_numel = numel;
    const auto declared = declared_.emplace(ref->key, *ref);
    if (declared.first->second.dtype != ref->dtype || declared.first->second.numel != ref->numel) {
      throw Error("storage '" + printable(key->s) + "' is declared twice with different types or sizes");
    }
    if (pid->items.size() == 6 && pid->items[5]->kind != Kind::None) {
      const Value* view = pid->items[5];
      int64_t offset = 0, size = 0;
      if (view->kind != Kind::Tuple || view->items.size() != 3 || !as_int(view->items[1], offset) ||
          !as_int(view->items[2], size) || offset < 0 || size < 0 || offset > numel || size > numel - offset) {
        throw Error("storage '" + printable(key->s) + "' has a view outside it");
      }
      ref->view_offset = offset;
      ref->view_numel = size;
    }
    Value* v = make(Kind::Storage);
    v->storage = std::move(ref);
    return v;
  }

  Value* call(const Value* fn, const Value* args) {
    if (fn->kind != Kind::Global) throw Error(std::string("REDUCE calls ") + kind_name(fn->kind));
    if (args->kind != Kind::Tuple) throw Error("REDUCE arguments are not a tuple");
    const std::vector<Value*>& a = args->items;
    const std::string name = printable(fn->s);
    auto arity = [&](size_t lo, size_t hi) {
      if (a.size() < lo || a.size() > hi) throw Error(name + " called with " + std::to_string(a.size()) + " arguments");
    };
    switch (fn->global) {
      case Global::OrderedDict:
        arity(0, 0);
        return make(Kind::Dict);
      case Global::RebuildTensor:  // (storage, offset, size, stride)
        arity(4, 4);
        return rebuild(a[0], a[1], a[2], a[3], nullptr);
      case Global::RebuildTensorV2:  // (storage, offset, size, stride, requires_grad, hooks[, metadata])
        arity(6, 7);
        check_extras(a[5], a.size() == 7 ? a[6] : nullptr);
        return rebuild(a[0], a[1], a[2], a[3], nullptr);
      case Global::RebuildTensorV3:  // (storage, offset, size, stride, requires_grad, hooks, dtype[, metadata])
        arity(7, 8);
        check_extras(a[5], a.size() == 8 ? a[7] : nullptr);
        return rebuild(a[0], a[1], a[2], a[3], a[6]);
      case Global::RebuildParameter:           // (data, requires_grad, hooks)
      case Global::RebuildParameterWithState:  // (data, requires_grad, hooks, state)
        arity(3, fn->global == Global::RebuildParameter ? 3 : 4);
        if (a[0]->kind != Kind::Tensor) throw Error(name + " of " + kind_name(a[0]->kind));
        return a[0];
      case Global::StorageType:
      case Global::DType:
        break;
    }
    throw Error(name + " cannot be called here: not a state dict written by torch.save");
  }

  // Backward hooks are an empty OrderedDict in every saved tensor; metadata marks conjugate or
  // negative views of complex tensors, which state dicts do not hold.
  static void check_extras(const Value* hooks, const Value* metadata) {
    if (hooks->kind != Kind::Dict && hooks->kind != Kind::None) throw Error("tensor backward hooks are not a dict");
    if (metadata && metadata->kind != Kind::None && !(metadata->kind == Kind::Dict && metadata->entries.empty())) {
      throw Error("tensor metadata (conjugate or negative views) is not supported");
    }
  }

  Value* rebuild(const Value* storage, const Value* offset_value, const Value* size, const Value* stride,
                 const Value* dtype) {
    if (storage->kind != Kind::Storage) throw Error(std::string("a tensor's storage is ") + kind_name(storage->kind));
    auto spec = std::make_unique<TensorSpec>();
    spec->storage = storage->storage.get();
    spec->dtype = storage->storage->dtype;
    if (dtype) {
      if (dtype->kind != Kind::Global || dtype->global != Global::DType) throw Error("a tensor's dtype is not a torch dtype");
      spec->dtype = dtype->dtype;
    }
    if (!as_int(offset_value, spec->offset) || spec->offset < 0) throw Error("a tensor's storage offset is not a non-negative int");
    spec->sizes = int_tuple(size, "a tensor's size");
    spec->strides = int_tuple(stride, "a tensor's stride");
    if (spec->sizes.size() != spec->strides.size()) throw Error("a tensor's size and stride differ in length");

    // Every element the view can reach lies inside the storage (in bytes: v3 views untyped ones).
    uint64_t numel = 1, last = static_cast<uint64_t>(spec->offset);
    for (size_t k = 0; k < spec->sizes.size(); ++k) {
      const int64_t n = spec->sizes[k], s = spec->strides[k];
      if (n < 0 || s < 0) throw Error("a tensor has a negative size or stride");
      uint64_t reach = 0;
      if (__builtin_mul_overflow(numel, static_cast<uint64_t>(n), &numel) || numel > kMaxElements ||
          (n > 0 && (__builtin_mul_overflow(static_cast<uint64_t>(n - 1), static_cast<uint64_t>(s), &reach) ||
                     __builtin_add_overflow(last, reach, &last)))) {
        throw Error("a tensor's shape is too large");
      }
    }
    spec->numel = numel;
    const StorageRef& st = *spec->storage;
    const uint64_t storage_bytes = static_cast<uint64_t>(st.view_numel) * c10::elementSize(st.dtype);
    const uint64_t item = c10::elementSize(spec->dtype);
    uint64_t end_bytes = 0;
    if (numel > 0 && (__builtin_add_overflow(last, 1ull, &last) || __builtin_mul_overflow(last, item, &end_bytes) ||
                      end_bytes > storage_bytes)) {
      throw Error("a tensor reaches outside its storage '" + printable(st.key) + "'");
    }
    Value* v = make(Kind::Tensor);
    v->tensor = std::move(spec);
    return v;
  }

  Arena& arena_;
  std::map<std::string, StorageRef>& declared_;
  const uint8_t* d_ = nullptr;
  uint64_t n_ = 0, p_ = 0, op_at_ = 0;
  std::vector<Value*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Value*> memo_;
};

}  // namespace

// For messages: "entry 'x' is an int, not a tensor".
const char* kind_name(Kind k) {
  switch (k) {
    case Kind::None: return "None";
    case Kind::Bool: return "a bool";
    case Kind::Int: case Kind::BigInt: return "an int";
    case Kind::Float: return "a float";
    case Kind::Str: return "a str";
    case Kind::Bytes: return "bytes";
    case Kind::Tuple: return "a tuple";
    case Kind::List: return "a list";
    case Kind::Dict: return "a dict";
    case Kind::Set: return "a set";
    case Kind::Global: return "a class or function";
    case Kind::Storage: return "a storage";
    case Kind::Tensor: return "a tensor";
  }
  return "a value";
}


Value* Arena::make(Kind kind) {
  if (values_.size() >= kMaxValues) throw Error("pickle creates more than " + std::to_string(kMaxValues) + " objects");
  values_.push_back(std::make_unique<Value>());
  values_.back()->kind = kind;
  return values_.back().get();
}

Value* Unpickler::load(const uint8_t* data, uint64_t size, uint64_t& pos, const std::string& label) {
  Machine machine(arena_, declared_);
  return machine.load(data, size, pos, label);
}

}  // namespace electra::pickle
