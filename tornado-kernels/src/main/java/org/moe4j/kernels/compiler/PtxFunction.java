package org.moe4j.kernels.compiler;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.moe4j.kernels.compiler.Ir.ArrayRef;
import org.moe4j.kernels.compiler.Ir.Expr;
import org.moe4j.kernels.compiler.Ir.Ty;
import org.moe4j.kernels.compiler.Ir.Var;

/**
 * The PTX of one IR function: its signature, register declarations and instructions. Every IR
 * variable is a register of its own ({@code %sum_}); expression trees are flattened into scratch
 * registers named as nvcc names them ({@code %r3}, {@code %rd3}, {@code %f3}, {@code %fd3},
 * {@code %p3}), which no IR name can take, since those end in {@code _} or a type letter.
 *
 * <p>Java's rules where PTX's differ: float arithmetic carries {@code .rn} (PTX may fuse an
 * unrounded multiply and add into an FMA), division and square root are the correctly rounded
 * {@code .rn} forms, nothing is {@code .ftz}; {@code Math.max/min} are comparisons and selects (PTX's
 * {@code max.f32} returns the operand that is not NaN); float-to-integer conversions map NaN to 0
 * explicitly (PTX's {@code cvt} saturates, but NaN to 64 bits gives the minimum); shift counts are
 * masked (PTX clamps them); integer division by 0 gives 0 and by -1 negates (wrapping), as on the
 * OpenCL device. What PTX has no exact instruction for ({@code exp}, {@code log}, {@code tanh},
 * {@code pow}, the floating-point remainder) calls a {@link DeviceMath} translation, in double.
 */
final class PtxFunction {
    /** Scratch register kinds: prefix and declared type. */
    private enum Scratch {
        PRED("%p", ".pred"), B32("%r", ".b32"), B64("%rd", ".b64"), F32("%f", ".f32"), F64("%fd", ".f64");

        final String prefix;
        final String declared;

        Scratch(String prefix, String declared) {
            this.prefix = prefix;
            this.declared = declared;
        }

        static Scratch of(Ty t) {
            return switch (t) {
                case INT -> B32;
                case LONG -> B64;
                case FLOAT -> F32;
                case DOUBLE -> F64;
            };
        }
    }

    private final Ir.Function fn;
    private final Map<String, Ir.Function> math;
    private final StringBuilder code = new StringBuilder();
    private final int[] scratchCount = new int[Scratch.values().length];
    private final Map<String, Var> variables = new LinkedHashMap<>();

    /**
     * @param math the {@link DeviceMath} translations by Java name ({@code exp}, {@code log},
     *             {@code tanh}, {@code pow}, {@code rem}); those the function needs must be there
     */
    PtxFunction(Ir.Function fn, Map<String, Ir.Function> math) {
        this.fn = fn;
        this.math = math;
    }

    /** The {@code .entry} or {@code .func} header, without a body: with {@code ;} after it, a prototype. */
    static String signature(Ir.Function f) {
        List<String> params = new ArrayList<>();
        for (Ir.Param p : f.params) {
            if (p.isArray()) {
                params.add(".param .u64 " + p.name());
                params.add(".param .u32 " + p.name() + "len");
            } else {
                params.add(".param " + paramType(p.type()) + " " + p.name());
            }
        }
        String head = f.kernel ? ".visible .entry " + f.name
                : ".func " + (f.returnType == null ? "" : "(.param " + paramType(f.returnType) + " result) ") + f.name;
        return head + "(" + String.join(", ", params) + ")";
    }

    /** The whole function: signature and body. */
    String print() {
        prologue();
        for (Ir.Stmt s : fn.body) {
            statement(s);
        }
        StringBuilder out = new StringBuilder(signature(fn)).append("\n{\n");
        for (ArrayRef a : fn.localArrays) {
            out.append("    .shared .align ").append(bytes(a.element)).append(' ').append(regType(a.element))
                    .append(' ').append(a.name).append('[').append(((Ir.Const) a.length).value()).append("];\n");
        }
        List<String> addresses = new ArrayList<>();
        fn.params.stream().filter(Ir.Param::isArray).forEach(p -> addresses.add("%" + p.name()));
        fn.localArrays.forEach(a -> addresses.add("%" + a.name));
        declare(out, ".u64", addresses);
        for (Ty t : Ty.values()) {
            declare(out, regType(t), variables.values().stream().filter(v -> v.type() == t).map(v -> "%" + v.name())
                    .toList());
        }
        for (Scratch s : Scratch.values()) {
            if (scratchCount[s.ordinal()] > 0) {
                out.append("    .reg ").append(s.declared).append(' ').append(s.prefix).append('<')
                        .append(scratchCount[s.ordinal()]).append(">;\n");
            }
        }
        return out.append(code).append("}\n").toString();
    }

    private static void declare(StringBuilder out, String type, List<String> names) {
        for (int i = 0; i < names.size(); i += 10) {
            out.append("    .reg ").append(type).append(' ')
                    .append(String.join(", ", names.subList(i, Math.min(names.size(), i + 10)))).append(";\n");
        }
    }

    /** Parameters into registers; a kernel's arrays as global addresses, its local arrays' shared addresses. */
    private void prologue() {
        for (Ir.Param p : fn.params) {
            if (p.isArray()) {
                emit("ld.param.u64 %" + p.name() + ", [" + p.name() + "]");
                if (fn.kernel) {
                    emit("cvta.to.global.u64 %" + p.name() + ", %" + p.name());
                }
                Var length = (Var) p.array().length;
                emit("ld.param.u32 " + name(length) + ", [" + p.name() + "len]");
            } else {
                emit("ld.param." + paramType(p.type()).substring(1) + " " + name(fn.variable(p.name(), p.type()))
                        + ", [" + p.name() + "]");
            }
        }
        for (ArrayRef a : fn.localArrays) {
            emit("mov.u64 %" + a.name + ", " + a.name);
        }
    }

    // ---- statements

    private void statement(Ir.Stmt s) {
        switch (s) {
            case Ir.Assign a -> eval(a.value(), name(a.dst()));
            case Ir.Load l -> emit("ld." + space(l.array()) + "." + arith(l.dst().type()) + " " + name(l.dst()) + ", "
                    + address(l.array(), l.index()));
            case Ir.Store st -> {
                String value = register(st.value());
                emit("st." + space(st.array()) + "." + arith(st.value().type()) + " " + address(st.array(), st.index())
                        + ", " + value);
            }
            case Ir.Invoke i -> {
                List<String> args = new ArrayList<>();
                for (Object a : i.args()) {
                    if (a instanceof ArrayRef r) {
                        args.add("%" + r.name);
                        args.add(register(r.length));
                    } else {
                        args.add(register((Expr) a));
                    }
                }
                call(i.callee(), args, i.dst() == null ? null : name(i.dst()));
            }
            case Ir.Label l -> code.append(l.name()).append(":\n");
            case Ir.Goto g -> emit("bra " + g.label());
            case Ir.If f -> emit("@" + predicate(f.cond()) + " bra " + f.label());
            case Ir.Switch w -> {
                String key = register(w.key());
                for (int k = 0; k < w.keys().length; k++) {
                    String p = scratch(Scratch.PRED);
                    emit("setp.eq.s32 " + p + ", " + key + ", " + w.keys()[k]);
                    emit("@" + p + " bra " + w.labels()[k]);
                }
                emit("bra " + w.defaultLabel());
            }
            case Ir.Return r -> {
                if (r.value() != null) {
                    String value = register(r.value());
                    emit("st.param." + paramType(r.value().type()).substring(1) + " [result], " + value);
                }
                emit("ret");
            }
            // bar.sync orders shared and global memory for the work-group, as barrier() with both fences does
            case Ir.Barrier b -> emit("bar.sync 0");
        }
    }

    /** A call of a translated function with arguments in registers (an array as its address and its length). */
    private void call(Ir.Function callee, List<String> args, String result) {
        code.append("    {\n");
        List<String> names = new ArrayList<>();
        int k = 0;
        for (Ir.Param p : callee.params) {
            List<String> types = p.isArray() ? List.of(".u64", ".u32") : List.of(paramType(p.type()));
            for (String type : types) {
                String name = "arg" + k;
                emit("    .param " + type + " " + name);
                emit("    st.param" + type + " [" + name + "], " + args.get(k));
                names.add(name);
                k++;
            }
        }
        if (callee.returnType != null) {
            emit("    .param " + paramType(callee.returnType) + " ret");
        }
        emit("    call " + (callee.returnType != null ? "(ret), " : "") + callee.name + ", (" + String.join(", ", names) + ")");
        if (result != null) {
            emit("    ld.param" + paramType(callee.returnType) + " " + result + ", [ret]");
        }
        code.append("    }\n");
    }

    /** {@code [address]} of element {@code index} of {@code array}. */
    private String address(ArrayRef array, Expr index) {
        int size = bytes(array.element);
        if (index instanceof Ir.Const c && c.value().intValue() >= 0) {
            return "[%" + array.name + "+" + (long) c.value().intValue() * size + "]";
        }
        String offset = scratch(Scratch.B64);
        emit("mul.wide.s32 " + offset + ", " + register(index) + ", " + size);
        String at = scratch(Scratch.B64);
        emit("add.s64 " + at + ", %" + array.name + ", " + offset);
        return "[" + at + "]";
    }

    // ---- expressions

    /** The value of {@code e} as an operand: a register, or an immediate for a constant. */
    private String operand(Expr e) {
        return eval(e, null);
    }

    /** The value of {@code e} in a register. */
    private String register(Expr e) {
        if (e instanceof Ir.Const) {
            return eval(e, scratch(Scratch.of(e.type())));
        }
        return eval(e, null);
    }

    /**
     * Computes {@code e}, into {@code d} when it is given (else into a new scratch register for a
     * computed value), and returns where the value is.
     */
    private String eval(Expr e, String d) {
        if (e instanceof Var || e instanceof Ir.Const) {
            String v = e instanceof Var var ? name(var) : literal((Ir.Const) e);
            if (d != null) {
                emit("mov." + arith(e.type()) + " " + d + ", " + v);
                return d;
            }
            return v;
        }
        String to = d != null ? d : scratch(Scratch.of(e.type()));
        switch (e) {
            case Ir.Unary u -> emit("neg." + arith(u.type()) + " " + to + ", " + register(u.a()));
            case Ir.Binary b -> binary(b, to);
            case Ir.Convert c -> convert(c, to);
            case Ir.Narrow n -> {
                String a = register(n.a());
                if (n.signed()) {
                    String shifted = scratch(Scratch.B32);
                    emit("shl.b32 " + shifted + ", " + a + ", " + (32 - n.bits()));
                    emit("shr.s32 " + to + ", " + shifted + ", " + (32 - n.bits()));
                } else {
                    emit("and.b32 " + to + ", " + a + ", 65535");
                }
            }
            case Ir.Intrinsic i -> intrinsic(i, to);
            case Ir.Compare c -> emit("selp.s32 " + to + ", 1, 0, " + predicate(c));
            case Ir.Cmp3 c -> threeWay(c, to);
            default -> throw new IllegalStateException(e.toString());
        }
        return to;
    }

    private void binary(Ir.Binary b, String d) {
        Ty t = b.type();
        if (t == Ty.FLOAT || t == Ty.DOUBLE) {
            if (b.op() == Ir.Op.REM) {
                mathCall("rem", t, d, List.of(b.a(), b.b()));
                return;
            }
            String op = switch (b.op()) {
                case ADD -> "add.rn.";
                case SUB -> "sub.rn.";
                case MUL -> "mul.rn.";
                case DIV -> "div.rn.";
                default -> throw new IllegalStateException(b.toString());
            };
            emit(op + arith(t) + " " + d + ", " + operand(b.a()) + ", " + operand(b.b()));
            return;
        }
        // divide's sequence negates the dividend, which must be in a register for that
        String x = b.op() == Ir.Op.DIV || b.op() == Ir.Op.REM ? register(b.a()) : operand(b.a());
        switch (b.op()) {
            case ADD -> emit("add." + arith(t) + " " + d + ", " + x + ", " + operand(b.b()));
            case SUB -> emit("sub." + arith(t) + " " + d + ", " + x + ", " + operand(b.b()));
            case MUL -> emit("mul.lo." + arith(t) + " " + d + ", " + x + ", " + operand(b.b()));
            case AND -> emit("and." + bits(t) + " " + d + ", " + x + ", " + operand(b.b()));
            case OR -> emit("or." + bits(t) + " " + d + ", " + x + ", " + operand(b.b()));
            case XOR -> emit("xor." + bits(t) + " " + d + ", " + x + ", " + operand(b.b()));
            case SHL -> emit("shl." + bits(t) + " " + d + ", " + x + ", " + shiftCount(b));
            case SHR -> emit("shr." + arith(t) + " " + d + ", " + x + ", " + shiftCount(b));
            case USHR -> emit("shr.u" + (t == Ty.INT ? "32" : "64") + " " + d + ", " + x + ", " + shiftCount(b));
            case DIV, REM -> divide(b, x, d);
            case NEG -> throw new IllegalStateException(b.toString());
        }
    }

    /** Java masks shift counts to the width; PTX would clamp them. */
    private String shiftCount(Ir.Binary b) {
        int mask = b.type() == Ty.INT ? 31 : 63;
        if (b.b() instanceof Ir.Const c) {
            return Integer.toString(c.value().intValue() & mask);
        }
        String count = scratch(Scratch.B32);
        emit("and.b32 " + count + ", " + register(b.b()) + ", " + mask);
        return count;
    }

    /**
     * Java's {@code /} and {@code %} on int and long: {@code MIN_VALUE / -1} wraps and {@code % -1}
     * is 0; division by 0 gives 0 (as on the OpenCL device: a device cannot throw). Plain
     * {@code div}/{@code rem} when the divisor is a constant other than 0 and -1.
     */
    private void divide(Ir.Binary b, String x, String d) {
        String op = b.op() == Ir.Op.DIV ? "div." : "rem.";
        String t = arith(b.type());
        if (b.b() instanceof Ir.Const c && c.value().longValue() != 0 && c.value().longValue() != -1) {
            emit(op + t + " " + d + ", " + x + ", " + literal(c));
            return;
        }
        String y = register(b.b());
        String zero = scratch(Scratch.PRED);
        String minusOne = scratch(Scratch.PRED);
        String either = scratch(Scratch.PRED);
        emit("setp.eq." + t + " " + zero + ", " + y + ", 0");
        emit("setp.eq." + t + " " + minusOne + ", " + y + ", -1");
        emit("or.pred " + either + ", " + zero + ", " + minusOne);
        String safe = scratch(Scratch.of(b.type()));
        emit("selp." + t + " " + safe + ", 1, " + y + ", " + either);
        String quotient = scratch(Scratch.of(b.type()));
        emit(op + t + " " + quotient + ", " + x + ", " + safe);
        if (b.op() == Ir.Op.DIV) {
            String negated = scratch(Scratch.of(b.type()));
            emit("neg." + t + " " + negated + ", " + x);
            String byMinusOne = scratch(Scratch.of(b.type()));
            emit("selp." + t + " " + byMinusOne + ", " + negated + ", " + quotient + ", " + minusOne);
            emit("selp." + t + " " + d + ", 0, " + byMinusOne + ", " + zero);
        } else {
            emit("selp." + t + " " + d + ", 0, " + quotient + ", " + either);
        }
    }

    private void convert(Ir.Convert c, String d) {
        String a = register(c.a());
        Ty from = c.from();
        Ty to = c.type();
        switch (from.letter + to.letter) {
            case "ij" -> emit("cvt.s64.s32 " + d + ", " + a);
            case "ji" -> emit("cvt.u32.u64 " + d + ", " + a);
            case "if", "id", "jf", "jd", "df" -> emit("cvt.rn." + arith(to) + "." + arith(from) + " " + d + ", " + a);
            case "fd" -> emit("cvt.f64.f32 " + d + ", " + a);
            default -> {
                // float or double to int or long: cvt.rzi saturates; NaN becomes 0 explicitly
                String converted = scratch(Scratch.of(to));
                emit("cvt.rzi." + arith(to) + "." + arith(from) + " " + converted + ", " + a);
                String nan = scratch(Scratch.PRED);
                emit("setp.nan." + arith(from) + " " + nan + ", " + a + ", " + a);
                emit("selp." + arith(to) + " " + d + ", 0, " + converted + ", " + nan);
            }
        }
    }

    private void intrinsic(Ir.Intrinsic i, String d) {
        Ty t = i.type();
        List<Expr> args = i.args();
        switch (i.name()) {
            case "get_global_id" -> {
                String group = scratch(Scratch.B32);
                String size = scratch(Scratch.B32);
                String local = scratch(Scratch.B32);
                emit("mov.u32 " + group + ", %ctaid." + dim(i));
                emit("mov.u32 " + size + ", %ntid." + dim(i));
                emit("mov.u32 " + local + ", %tid." + dim(i));
                emit("mad.lo.s32 " + d + ", " + group + ", " + size + ", " + local);
            }
            case "get_global_size" -> {
                String groups = scratch(Scratch.B32);
                String size = scratch(Scratch.B32);
                emit("mov.u32 " + groups + ", %nctaid." + dim(i));
                emit("mov.u32 " + size + ", %ntid." + dim(i));
                emit("mul.lo.s32 " + d + ", " + groups + ", " + size);
            }
            case "get_local_id" -> emit("mov.u32 " + d + ", %tid." + dim(i));
            case "get_group_id" -> emit("mov.u32 " + d + ", %ctaid." + dim(i));
            case "get_local_size" -> emit("mov.u32 " + d + ", %ntid." + dim(i));
            case "abs" -> abs(t, register(args.getFirst()), d);
            case "max", "min" -> maxMin(i.name(), t, register(args.get(0)), register(args.get(1)), d);
            case "fma" -> emit("fma.rn." + arith(t) + " " + d + ", " + register(args.get(0)) + ", "
                    + register(args.get(1)) + ", " + register(args.get(2)));
            case "sqrt" -> emit("sqrt.rn." + arith(t) + " " + d + ", " + register(args.getFirst()));
            case "floor" -> emit("cvt.rmi." + arith(t) + "." + arith(t) + " " + d + ", " + register(args.getFirst()));
            case "ceil" -> emit("cvt.rpi." + arith(t) + "." + arith(t) + " " + d + ", " + register(args.getFirst()));
            case "as_int", "as_float", "as_long", "as_double" -> emit("mov." + bits(t) + " " + d + ", "
                    + register(args.getFirst()));
            case "floatToIntBits" -> {
                // floatToRawIntBits, but every NaN is the canonical 0x7fc00000
                String x = register(args.getFirst());
                String raw = scratch(Scratch.B32);
                emit("mov.b32 " + raw + ", " + x);
                String nan = scratch(Scratch.PRED);
                emit("setp.nan.f32 " + nan + ", " + x + ", " + x);
                emit("selp.b32 " + d + ", 2143289344, " + raw + ", " + nan);
            }
            case "isnan" -> {
                String x = register(args.getFirst());
                String nan = scratch(Scratch.PRED);
                emit("setp.nan." + arith(args.getFirst().type()) + " " + nan + ", " + x + ", " + x);
                emit("selp.s32 " + d + ", 1, 0, " + nan);
            }
            case "exp", "log", "tanh", "pow" -> mathCall(i.name(), t, d, args);
            default -> throw new IllegalStateException("no PTX for the intrinsic " + i.name());
        }
    }

    private static String dim(Ir.Intrinsic i) {
        return ((Ir.Const) i.args().getFirst()).value().intValue() == 0 ? "x" : "y";
    }

    /** Java's abs: an integer's by negation ({@code abs(MIN_VALUE) == MIN_VALUE}), a float's by clearing the sign bit. */
    private void abs(Ty t, String x, String d) {
        switch (t) {
            case FLOAT -> emit("and.b32 " + d + ", " + x + ", 2147483647");
            case DOUBLE -> emit("and.b64 " + d + ", " + x + ", 9223372036854775807");
            default -> {
                String negated = scratch(Scratch.of(t));
                emit("neg." + arith(t) + " " + negated + ", " + x);
                String negative = scratch(Scratch.PRED);
                emit("setp.lt." + arith(t) + " " + negative + ", " + x + ", 0");
                emit("selp." + arith(t) + " " + d + ", " + negated + ", " + x + ", " + negative);
            }
        }
    }

    /**
     * Java's {@code Math.max/min}: NaN if an operand is NaN, and of two zeros {@code max} gives +0.0
     * (the AND of their bits), {@code min} -0.0 (the OR); integers by {@code max}/{@code min}.
     */
    private void maxMin(String which, Ty t, String a, String b, String d) {
        String type = arith(t);
        if (t == Ty.INT || t == Ty.LONG) {
            emit(which + "." + type + " " + d + ", " + a + ", " + b);
            return;
        }
        Scratch kind = Scratch.of(t);
        String wins = scratch(Scratch.PRED);
        emit("setp." + (which.equals("max") ? "gt." : "lt.") + type + " " + wins + ", " + a + ", " + b);
        String ordered = scratch(kind);
        emit("selp." + type + " " + ordered + ", " + a + ", " + b + ", " + wins);
        String equal = scratch(Scratch.PRED);
        emit("setp.eq." + type + " " + equal + ", " + a + ", " + b);
        String zeros = scratch(kind);
        emit((which.equals("max") ? "and." : "or.") + bits(t) + " " + zeros + ", " + a + ", " + b);
        String notNan = scratch(kind);
        emit("selp." + type + " " + notNan + ", " + zeros + ", " + ordered + ", " + equal);
        String bNan = scratch(Scratch.PRED);
        emit("setp.nan." + type + " " + bNan + ", " + b + ", " + b);
        String withB = scratch(kind);
        emit("selp." + type + " " + withB + ", " + b + ", " + notNan + ", " + bNan);
        String aNan = scratch(Scratch.PRED);
        emit("setp.nan." + type + " " + aNan + ", " + a + ", " + a);
        emit("selp." + type + " " + d + ", " + a + ", " + withB + ", " + aNan);
    }

    /** Calls the {@link DeviceMath} function {@code name} (in double: float arguments widened, the result rounded). */
    private void mathCall(String name, Ty t, String d, List<Expr> args) {
        Ir.Function f = math.get(name);
        if (f == null) {
            throw new IllegalStateException("DeviceMath." + name + " was not translated for " + fn.javaName);
        }
        List<String> doubles = new ArrayList<>();
        for (Expr a : args) {
            String x = register(a);
            if (t == Ty.FLOAT) {
                String wide = scratch(Scratch.F64);
                emit("cvt.f64.f32 " + wide + ", " + x);
                x = wide;
            }
            doubles.add(x);
        }
        if (t == Ty.FLOAT) {
            String wide = scratch(Scratch.F64);
            call(f, doubles, wide);
            emit("cvt.rn.f32.f64 " + d + ", " + wide);
        } else {
            call(f, doubles, d);
        }
    }

    private void threeWay(Ir.Cmp3 c, String d) {
        String type = arith(c.operandType());
        String a = register(c.a());
        String b = register(c.b());
        String less = scratch(Scratch.PRED);
        String greater = scratch(Scratch.PRED);
        emit("setp.lt." + type + " " + less + ", " + a + ", " + b);
        emit("setp.gt." + type + " " + greater + ", " + a + ", " + b);
        String notLess = scratch(Scratch.B32);
        if (c.operandType() == Ty.INT || c.operandType() == Ty.LONG) {
            emit("selp.s32 " + notLess + ", 1, 0, " + greater);
        } else {
            // unordered (a NaN operand) gives the bytecode's NaN result: -1 for fcmpl, 1 for fcmpg
            String equal = scratch(Scratch.PRED);
            emit("setp.eq." + type + " " + equal + ", " + a + ", " + b);
            String orNan = scratch(Scratch.B32);
            emit("selp.s32 " + orNan + ", 0, " + c.nanResult() + ", " + equal);
            emit("selp.s32 " + notLess + ", 1, " + orNan + ", " + greater);
        }
        emit("selp.s32 " + d + ", -1, " + notLess + ", " + less);
    }

    /** A predicate register holding {@code c}; a float comparison that is true for NaN uses the unordered form. */
    private String predicate(Ir.Compare c) {
        String a = register(c.a());
        String b = operand(c.b());
        Ty t = c.operandType();
        String cond = c.cond().name().toLowerCase();
        if ((t == Ty.FLOAT || t == Ty.DOUBLE) && c.cond().holds(c.nanResult())) {
            cond += "u";
        }
        String p = scratch(Scratch.PRED);
        emit("setp." + cond + "." + arith(t) + " " + p + ", " + a + ", " + b);
        return p;
    }

    // ---- names, types, literals

    private String name(Var v) {
        variables.putIfAbsent(v.name(), v);
        return "%" + v.name();
    }

    private String scratch(Scratch kind) {
        return kind.prefix + scratchCount[kind.ordinal()]++;
    }

    private void emit(String instruction) {
        code.append("    ").append(instruction).append(";\n");
    }

    private static String space(ArrayRef a) {
        return a.local ? "shared" : "global";
    }

    private static int bytes(Ty t) {
        return t.wide() ? 8 : 4;
    }

    /** The type of arithmetic instructions on {@code t}. */
    static String arith(Ty t) {
        return switch (t) {
            case INT -> "s32";
            case LONG -> "s64";
            case FLOAT -> "f32";
            case DOUBLE -> "f64";
        };
    }

    private static String bits(Ty t) {
        return t.wide() ? "b64" : "b32";
    }

    private static String regType(Ty t) {
        return "." + arith(t);
    }

    /** The type of a parameter or result in the {@code .param} space. */
    private static String paramType(Ty t) {
        return switch (t) {
            case INT -> ".b32";
            case LONG -> ".b64";
            case FLOAT -> ".f32";
            case DOUBLE -> ".f64";
        };
    }

    /** A PTX immediate: integers in decimal, floats and doubles as their exact bits ({@code 0f3F800000}). */
    static String literal(Ir.Const c) {
        return switch (c.type()) {
            case INT -> Integer.toString(c.value().intValue());
            case LONG -> c.value().longValue() == Long.MIN_VALUE ? "0x8000000000000000" : Long.toString(c.value().longValue());
            case FLOAT -> String.format("0f%08X", Float.floatToRawIntBits(c.value().floatValue()));
            case DOUBLE -> String.format("0d%016X", Double.doubleToRawLongBits(c.value().doubleValue()));
        };
    }
}
