package org.moe4j.kernels.compiler;

import static org.moe4j.kernels.compiler.PtxCode.arith;
import static org.moe4j.kernels.compiler.PtxCode.bits;
import static org.moe4j.kernels.compiler.PtxCode.literal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.moe4j.kernels.compiler.Ir.Expr;
import org.moe4j.kernels.compiler.Ir.Ty;
import org.moe4j.kernels.compiler.Ir.Var;
import org.moe4j.kernels.compiler.PtxCode.Scratch;

/**
 * IR expressions as PTX instructions into {@link PtxCode}'s registers, with Java's rules where
 * PTX's differ: float arithmetic carries {@code .rn} (PTX may fuse an unrounded multiply and add
 * into an FMA), division and square root are the correctly rounded {@code .rn} forms, nothing is
 * {@code .ftz}; {@code Math.max/min} are comparisons and selects (PTX's {@code max.f32} returns the
 * operand that is not NaN); float-to-integer conversions map NaN to 0 explicitly (PTX's {@code cvt}
 * saturates, but NaN to 64 bits gives the minimum); shift counts are masked (PTX clamps them);
 * integer division by 0 gives 0 and by -1 negates (wrapping), as on the OpenCL device. What PTX has
 * no exact instruction for ({@code exp}, {@code log}, {@code tanh}, {@code pow}, the floating-point
 * remainder) calls a {@link DeviceMath} translation, in double.
 */
final class PtxExpressions {
    private final PtxCode code;
    private final Map<String, Ir.Function> math;
    private final String function;

    /**
     * @param math     the {@link DeviceMath} translations by Java name ({@code exp}, {@code log},
     *                 {@code tanh}, {@code pow}, {@code rem}); those the expressions need must be there
     * @param function the Java method the expressions come from, for messages
     */
    PtxExpressions(PtxCode code, Map<String, Ir.Function> math, String function) {
        this.code = code;
        this.math = math;
        this.function = function;
    }

    /** The value of {@code e} as an operand: a register, or an immediate for a constant. */
    String operand(Expr e) {
        return eval(e, null);
    }

    /** The value of {@code e} in a register. */
    String register(Expr e) {
        if (e instanceof Ir.Const) {
            return eval(e, code.scratch(Scratch.of(e.type())));
        }
        return eval(e, null);
    }

    /**
     * Computes {@code e}, into {@code d} when it is given (else into a new scratch register for a
     * computed value), and returns where the value is.
     */
    String eval(Expr e, String d) {
        if (e instanceof Var || e instanceof Ir.Const) {
            String v = e instanceof Var var ? code.name(var) : literal((Ir.Const) e);
            if (d != null) {
                code.emit("mov." + arith(e.type()) + " " + d + ", " + v);
                return d;
            }
            return v;
        }
        String to = d != null ? d : code.scratch(Scratch.of(e.type()));
        switch (e) {
            case Ir.Unary u -> code.emit("neg." + arith(u.type()) + " " + to + ", " + register(u.a()));
            case Ir.Binary b -> binary(b, to);
            case Ir.Convert c -> convert(c, to);
            case Ir.Narrow n -> {
                String a = register(n.a());
                if (n.signed()) {
                    String shifted = code.scratch(Scratch.B32);
                    code.emit("shl.b32 " + shifted + ", " + a + ", " + (32 - n.bits()));
                    code.emit("shr.s32 " + to + ", " + shifted + ", " + (32 - n.bits()));
                } else {
                    code.emit("and.b32 " + to + ", " + a + ", 65535");
                }
            }
            case Ir.Intrinsic i -> intrinsic(i, to);
            case Ir.Compare c -> code.emit("selp.s32 " + to + ", 1, 0, " + predicate(c));
            case Ir.Cmp3 c -> threeWay(c, to);
            default -> throw new IllegalStateException(e.toString());
        }
        return to;
    }

    /** A predicate register holding {@code c}; a float comparison that is true for NaN uses the unordered form. */
    String predicate(Ir.Compare c) {
        String a = register(c.a());
        String b = operand(c.b());
        Ty t = c.operandType();
        String cond = c.cond().name().toLowerCase();
        if ((t == Ty.FLOAT || t == Ty.DOUBLE) && c.cond().holds(c.nanResult())) {
            cond += "u";
        }
        String p = code.scratch(Scratch.PRED);
        code.emit("setp." + cond + "." + arith(t) + " " + p + ", " + a + ", " + b);
        return p;
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
            code.emit(op + arith(t) + " " + d + ", " + operand(b.a()) + ", " + operand(b.b()));
            return;
        }
        // divide's sequence negates the dividend, which must be in a register for that
        String x = b.op() == Ir.Op.DIV || b.op() == Ir.Op.REM ? register(b.a()) : operand(b.a());
        switch (b.op()) {
            case ADD -> code.emit("add." + arith(t) + " " + d + ", " + x + ", " + operand(b.b()));
            case SUB -> code.emit("sub." + arith(t) + " " + d + ", " + x + ", " + operand(b.b()));
            case MUL -> code.emit("mul.lo." + arith(t) + " " + d + ", " + x + ", " + operand(b.b()));
            case AND -> code.emit("and." + bits(t) + " " + d + ", " + x + ", " + operand(b.b()));
            case OR -> code.emit("or." + bits(t) + " " + d + ", " + x + ", " + operand(b.b()));
            case XOR -> code.emit("xor." + bits(t) + " " + d + ", " + x + ", " + operand(b.b()));
            case SHL -> code.emit("shl." + bits(t) + " " + d + ", " + x + ", " + shiftCount(b));
            case SHR -> code.emit("shr." + arith(t) + " " + d + ", " + x + ", " + shiftCount(b));
            case USHR -> code.emit("shr.u" + (t == Ty.INT ? "32" : "64") + " " + d + ", " + x + ", " + shiftCount(b));
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
        String count = code.scratch(Scratch.B32);
        code.emit("and.b32 " + count + ", " + register(b.b()) + ", " + mask);
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
            code.emit(op + t + " " + d + ", " + x + ", " + literal(c));
            return;
        }
        String y = register(b.b());
        String zero = code.scratch(Scratch.PRED);
        String minusOne = code.scratch(Scratch.PRED);
        String either = code.scratch(Scratch.PRED);
        code.emit("setp.eq." + t + " " + zero + ", " + y + ", 0");
        code.emit("setp.eq." + t + " " + minusOne + ", " + y + ", -1");
        code.emit("or.pred " + either + ", " + zero + ", " + minusOne);
        String safe = code.scratch(Scratch.of(b.type()));
        code.emit("selp." + t + " " + safe + ", 1, " + y + ", " + either);
        String quotient = code.scratch(Scratch.of(b.type()));
        code.emit(op + t + " " + quotient + ", " + x + ", " + safe);
        if (b.op() == Ir.Op.DIV) {
            String negated = code.scratch(Scratch.of(b.type()));
            code.emit("neg." + t + " " + negated + ", " + x);
            String byMinusOne = code.scratch(Scratch.of(b.type()));
            code.emit("selp." + t + " " + byMinusOne + ", " + negated + ", " + quotient + ", " + minusOne);
            code.emit("selp." + t + " " + d + ", 0, " + byMinusOne + ", " + zero);
        } else {
            code.emit("selp." + t + " " + d + ", 0, " + quotient + ", " + either);
        }
    }

    private void convert(Ir.Convert c, String d) {
        String a = register(c.a());
        Ty from = c.from();
        Ty to = c.type();
        switch (from.letter + to.letter) {
            case "ij" -> code.emit("cvt.s64.s32 " + d + ", " + a);
            case "ji" -> code.emit("cvt.u32.u64 " + d + ", " + a);
            case "if", "id", "jf", "jd", "df" -> code.emit("cvt.rn." + arith(to) + "." + arith(from) + " " + d + ", " + a);
            case "fd" -> code.emit("cvt.f64.f32 " + d + ", " + a);
            default -> {
                // float or double to int or long: cvt.rzi saturates; NaN becomes 0 explicitly
                String converted = code.scratch(Scratch.of(to));
                code.emit("cvt.rzi." + arith(to) + "." + arith(from) + " " + converted + ", " + a);
                String nan = code.scratch(Scratch.PRED);
                code.emit("setp.nan." + arith(from) + " " + nan + ", " + a + ", " + a);
                code.emit("selp." + arith(to) + " " + d + ", 0, " + converted + ", " + nan);
            }
        }
    }

    private void intrinsic(Ir.Intrinsic i, String d) {
        Ty t = i.type();
        List<Expr> args = i.args();
        switch (i.name()) {
            case "get_global_id" -> {
                String group = code.scratch(Scratch.B32);
                String size = code.scratch(Scratch.B32);
                String local = code.scratch(Scratch.B32);
                code.emit("mov.u32 " + group + ", %ctaid." + dim(i));
                code.emit("mov.u32 " + size + ", %ntid." + dim(i));
                code.emit("mov.u32 " + local + ", %tid." + dim(i));
                code.emit("mad.lo.s32 " + d + ", " + group + ", " + size + ", " + local);
            }
            case "get_global_size" -> {
                String groups = code.scratch(Scratch.B32);
                String size = code.scratch(Scratch.B32);
                code.emit("mov.u32 " + groups + ", %nctaid." + dim(i));
                code.emit("mov.u32 " + size + ", %ntid." + dim(i));
                code.emit("mul.lo.s32 " + d + ", " + groups + ", " + size);
            }
            case "get_local_id" -> code.emit("mov.u32 " + d + ", %tid." + dim(i));
            case "get_group_id" -> code.emit("mov.u32 " + d + ", %ctaid." + dim(i));
            case "get_local_size" -> code.emit("mov.u32 " + d + ", %ntid." + dim(i));
            case "abs" -> abs(t, register(args.getFirst()), d);
            case "max", "min" -> maxMin(i.name(), t, register(args.get(0)), register(args.get(1)), d);
            case "fma" -> code.emit("fma.rn." + arith(t) + " " + d + ", " + register(args.get(0)) + ", "
                    + register(args.get(1)) + ", " + register(args.get(2)));
            case "sqrt" -> code.emit("sqrt.rn." + arith(t) + " " + d + ", " + register(args.getFirst()));
            case "floor" -> code.emit("cvt.rmi." + arith(t) + "." + arith(t) + " " + d + ", " + register(args.getFirst()));
            case "ceil" -> code.emit("cvt.rpi." + arith(t) + "." + arith(t) + " " + d + ", " + register(args.getFirst()));
            case "as_int", "as_float", "as_long", "as_double" -> code.emit("mov." + bits(t) + " " + d + ", "
                    + register(args.getFirst()));
            case "floatToIntBits" -> {
                // floatToRawIntBits, but every NaN is the canonical 0x7fc00000
                String x = register(args.getFirst());
                String raw = code.scratch(Scratch.B32);
                code.emit("mov.b32 " + raw + ", " + x);
                String nan = code.scratch(Scratch.PRED);
                code.emit("setp.nan.f32 " + nan + ", " + x + ", " + x);
                code.emit("selp.b32 " + d + ", 2143289344, " + raw + ", " + nan);
            }
            case "isnan" -> {
                String x = register(args.getFirst());
                String nan = code.scratch(Scratch.PRED);
                code.emit("setp.nan." + arith(args.getFirst().type()) + " " + nan + ", " + x + ", " + x);
                code.emit("selp.s32 " + d + ", 1, 0, " + nan);
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
            case FLOAT -> code.emit("and.b32 " + d + ", " + x + ", 2147483647");
            case DOUBLE -> code.emit("and.b64 " + d + ", " + x + ", 9223372036854775807");
            default -> {
                String negated = code.scratch(Scratch.of(t));
                code.emit("neg." + arith(t) + " " + negated + ", " + x);
                String negative = code.scratch(Scratch.PRED);
                code.emit("setp.lt." + arith(t) + " " + negative + ", " + x + ", 0");
                code.emit("selp." + arith(t) + " " + d + ", " + negated + ", " + x + ", " + negative);
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
            code.emit(which + "." + type + " " + d + ", " + a + ", " + b);
            return;
        }
        Scratch kind = Scratch.of(t);
        String wins = code.scratch(Scratch.PRED);
        code.emit("setp." + (which.equals("max") ? "gt." : "lt.") + type + " " + wins + ", " + a + ", " + b);
        String ordered = code.scratch(kind);
        code.emit("selp." + type + " " + ordered + ", " + a + ", " + b + ", " + wins);
        String equal = code.scratch(Scratch.PRED);
        code.emit("setp.eq." + type + " " + equal + ", " + a + ", " + b);
        String zeros = code.scratch(kind);
        code.emit((which.equals("max") ? "and." : "or.") + bits(t) + " " + zeros + ", " + a + ", " + b);
        String notNan = code.scratch(kind);
        code.emit("selp." + type + " " + notNan + ", " + zeros + ", " + ordered + ", " + equal);
        String bNan = code.scratch(Scratch.PRED);
        code.emit("setp.nan." + type + " " + bNan + ", " + b + ", " + b);
        String withB = code.scratch(kind);
        code.emit("selp." + type + " " + withB + ", " + b + ", " + notNan + ", " + bNan);
        String aNan = code.scratch(Scratch.PRED);
        code.emit("setp.nan." + type + " " + aNan + ", " + a + ", " + a);
        code.emit("selp." + type + " " + d + ", " + a + ", " + withB + ", " + aNan);
    }

    /** Calls the {@link DeviceMath} function {@code name} (in double: float arguments widened, the result rounded). */
    private void mathCall(String name, Ty t, String d, List<Expr> args) {
        Ir.Function f = math.get(name);
        if (f == null) {
            throw new IllegalStateException("DeviceMath." + name + " was not translated for " + function);
        }
        List<String> doubles = new ArrayList<>();
        for (Expr a : args) {
            String x = register(a);
            if (t == Ty.FLOAT) {
                String wide = code.scratch(Scratch.F64);
                code.emit("cvt.f64.f32 " + wide + ", " + x);
                x = wide;
            }
            doubles.add(x);
        }
        if (t == Ty.FLOAT) {
            String wide = code.scratch(Scratch.F64);
            code.call(f, doubles, wide);
            code.emit("cvt.rn.f32.f64 " + d + ", " + wide);
        } else {
            code.call(f, doubles, d);
        }
    }

    private void threeWay(Ir.Cmp3 c, String d) {
        String type = arith(c.operandType());
        String a = register(c.a());
        String b = register(c.b());
        String less = code.scratch(Scratch.PRED);
        String greater = code.scratch(Scratch.PRED);
        code.emit("setp.lt." + type + " " + less + ", " + a + ", " + b);
        code.emit("setp.gt." + type + " " + greater + ", " + a + ", " + b);
        String notLess = code.scratch(Scratch.B32);
        if (c.operandType() == Ty.INT || c.operandType() == Ty.LONG) {
            code.emit("selp.s32 " + notLess + ", 1, 0, " + greater);
        } else {
            // unordered (a NaN operand) gives the bytecode's NaN result: -1 for fcmpl, 1 for fcmpg
            String equal = code.scratch(Scratch.PRED);
            code.emit("setp.eq." + type + " " + equal + ", " + a + ", " + b);
            String orNan = code.scratch(Scratch.B32);
            code.emit("selp.s32 " + orNan + ", 0, " + c.nanResult() + ", " + equal);
            code.emit("selp.s32 " + notLess + ", 1, " + orNan + ", " + greater);
        }
        code.emit("selp.s32 " + d + ", -1, " + notLess + ", " + less);
    }
}
