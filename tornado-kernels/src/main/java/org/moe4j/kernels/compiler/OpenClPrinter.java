package org.moe4j.kernels.compiler;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.moe4j.kernels.compiler.Ir.ArrayRef;
import org.moe4j.kernels.compiler.Ir.Expr;
import org.moe4j.kernels.compiler.Ir.Ty;
import org.moe4j.kernels.compiler.Ir.Var;

/**
 * Prints IR functions as one OpenCL C program, keeping Java's semantics where C's differ: integer
 * arithmetic wraps (computed unsigned, reinterpreted with {@code as_int}), shift counts are masked,
 * division by -1 and by 0 are defined, float-to-int conversions saturate and send NaN to 0,
 * {@code Math.max/min} keep Java's NaN and signed-zero rules, and contraction into FMA is off.
 */
final class OpenClPrinter {
    /** Java-semantics helper functions, by name; emitted only when used. */
    private static final Map<String, String> HELPERS = new LinkedHashMap<>();

    static {
        HELPERS.put("jdiv_i", "int jdiv_i(int a, int b) { return b == 0 ? 0 : (b == -1 ? as_int(0u - (uint)a) : a / b); }");
        HELPERS.put("jrem_i", "int jrem_i(int a, int b) { return (b == 0 || b == -1) ? 0 : a % b; }");
        HELPERS.put("jdiv_l", "long jdiv_l(long a, long b) { return b == 0 ? 0 : (b == -1 ? as_long(0ul - (ulong)a) : a / b); }");
        HELPERS.put("jrem_l", "long jrem_l(long a, long b) { return (b == 0 || b == -1) ? 0 : a % b; }");
        HELPERS.put("jf2i", "int jf2i(float x) { return isnan(x) ? 0 : convert_int_sat_rtz(x); }");
        HELPERS.put("jf2l", "long jf2l(float x) { return isnan(x) ? 0 : convert_long_sat_rtz(x); }");
        HELPERS.put("jd2i", "int jd2i(double x) { return isnan(x) ? 0 : convert_int_sat_rtz(x); }");
        HELPERS.put("jd2l", "long jd2l(double x) { return isnan(x) ? 0 : convert_long_sat_rtz(x); }");
        HELPERS.put("jmax_f", "float jmax_f(float a, float b) { return a != a ? a : (b != b ? b : (a == b ? as_float(as_int(a) & as_int(b)) : (a > b ? a : b))); }");
        HELPERS.put("jmin_f", "float jmin_f(float a, float b) { return a != a ? a : (b != b ? b : (a == b ? as_float(as_int(a) | as_int(b)) : (a < b ? a : b))); }");
        HELPERS.put("jmax_d", "double jmax_d(double a, double b) { return a != a ? a : (b != b ? b : (a == b ? as_double(as_long(a) & as_long(b)) : (a > b ? a : b))); }");
        HELPERS.put("jmin_d", "double jmin_d(double a, double b) { return a != a ? a : (b != b ? b : (a == b ? as_double(as_long(a) | as_long(b)) : (a < b ? a : b))); }");
        HELPERS.put("jpow_f", "float jpow_f(float a, float b) { return (isnan(b) || (fabs(a) == 1.0f && isinf(b))) ? NAN : pow(a, b); }");
        HELPERS.put("jpow_d", "double jpow_d(double a, double b) { return (isnan(b) || (fabs(a) == 1.0 && isinf(b))) ? (double)NAN : pow(a, b); }");
        HELPERS.put("jfloat_bits", "int jfloat_bits(float x) { return isnan(x) ? 0x7fc00000 : as_int(x); }");
    }

    private final Set<String> helpersUsed = new TreeSet<>();
    private boolean usesDouble;

    boolean usesDouble() {
        return usesDouble;
    }

    /** The program: functions in the given order (callees first), the kernel last. */
    String program(String javaKernel, MathMode mode, List<Ir.Function> functions) {
        StringBuilder body = new StringBuilder();
        for (Ir.Function f : functions) {
            function(f, body);
            body.append('\n');
        }
        StringBuilder out = new StringBuilder();
        out.append("// ").append(javaKernel).append(", translated by moe4j (").append(mode.name().toLowerCase())
                .append(" math)\n");
        out.append("#pragma OPENCL FP_CONTRACT OFF\n");
        if (usesDouble) {
            out.append("#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n");
        }
        out.append('\n');
        for (String h : helpersUsed) {
            out.append(HELPERS.get(h)).append('\n');
        }
        if (!helpersUsed.isEmpty()) {
            out.append('\n');
        }
        out.append(body);
        return out.toString();
    }

    private void function(Ir.Function f, StringBuilder out) {
        StringBuilder code = new StringBuilder();
        Map<String, Var> used = new LinkedHashMap<>();
        for (Ir.Stmt s : f.body) {
            statement(s, code, used);
        }
        List<String> params = new ArrayList<>();
        for (Ir.Param p : f.params) {
            if (p.isArray()) {
                ArrayRef a = p.array();
                params.add((a.local ? "__local " : "__global ") + type(p.type()) + "* " + p.name());
                params.add("int " + p.name() + "len");
            } else {
                params.add(type(p.type()) + " " + p.name());
            }
            used.remove(p.name());
            used.remove(p.name() + "len");
        }
        out.append(f.kernel ? "__kernel void" : f.returnType == null ? "void" : type(f.returnType))
                .append(' ').append(f.name).append('(').append(String.join(", ", params)).append(") {\n");
        for (ArrayRef a : f.localArrays) {
            out.append("    __local ").append(type(a.element)).append(' ').append(a.name).append('[')
                    .append(((Ir.Const) a.length).value()).append("];\n");
        }
        for (Ty t : Ty.values()) {
            List<String> names = used.values().stream().filter(v -> v.type() == t).map(Var::name).toList();
            for (int i = 0; i < names.size(); i += 10) {
                out.append("    ").append(type(t)).append(' ')
                        .append(String.join(", ", names.subList(i, Math.min(names.size(), i + 10)))).append(";\n");
            }
        }
        out.append(code).append("}\n");
    }

    private void statement(Ir.Stmt s, StringBuilder out, Map<String, Var> used) {
        switch (s) {
            case Ir.Assign a -> line(out, def(a.dst(), used) + " = " + expr(a.value(), used) + ";");
            case Ir.Load l -> line(out, def(l.dst(), used) + " = " + l.array().name + "[" + expr(l.index(), used) + "];");
            case Ir.Store st -> line(out, st.array().name + "[" + expr(st.index(), used) + "] = "
                    + expr(st.value(), used) + ";");
            case Ir.Invoke i -> {
                List<String> args = new ArrayList<>();
                for (Object a : i.args()) {
                    if (a instanceof ArrayRef r) {
                        args.add(r.name);
                        args.add(expr(r.length, used));
                    } else {
                        args.add(expr((Expr) a, used));
                    }
                }
                String call = i.callee().name + "(" + String.join(", ", args) + ")";
                line(out, (i.dst() == null ? "" : def(i.dst(), used) + " = ") + call + ";");
            }
            case Ir.Label l -> out.append(l.name()).append(":;\n");
            case Ir.Goto g -> line(out, "goto " + g.label() + ";");
            case Ir.If f -> line(out, "if " + parens(expr(f.cond(), used)) + " goto " + f.label() + ";");
            case Ir.Switch w -> {
                line(out, "switch (" + expr(w.key(), used) + ") {");
                for (int k = 0; k < w.keys().length; k++) {
                    line(out, "case " + intLiteral(w.keys()[k]) + ": goto " + w.labels()[k] + ";");
                }
                line(out, "default: goto " + w.defaultLabel() + ";");
                line(out, "}");
            }
            case Ir.Return r -> line(out, r.value() == null ? "return;" : "return " + expr(r.value(), used) + ";");
            case Ir.Barrier b -> line(out, "barrier(CLK_LOCAL_MEM_FENCE | CLK_GLOBAL_MEM_FENCE);");
        }
    }

    private static void line(StringBuilder out, String text) {
        out.append("    ").append(text).append('\n');
    }

    private String def(Var v, Map<String, Var> used) {
        used.putIfAbsent(v.name(), v);
        type(v.type());
        return v.name();
    }

    private String type(Ty t) {
        if (t == Ty.DOUBLE) {
            usesDouble = true;
        }
        return t.c;
    }

    private static String parens(String e) {
        return e.startsWith("(") && balanced(e) ? e : "(" + e + ")";
    }

    /** Whether the parenthesis opening {@code e} closes at its end. */
    private static boolean balanced(String e) {
        int depth = 0;
        for (int i = 0; i < e.length(); i++) {
            char c = e.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
                if (depth == 0 && i < e.length() - 1) {
                    return false;
                }
            }
        }
        return true;
    }

    String expr(Expr e, Map<String, Var> used) {
        type(e.type());
        return switch (e) {
            case Var v -> {
                used.putIfAbsent(v.name(), v);
                yield v.name();
            }
            case Ir.Const c -> literal(c);
            case Ir.Unary u -> switch (u.type()) {
                case INT -> "as_int(0u - (uint)" + expr(u.a(), used) + ")";
                case LONG -> "as_long(0ul - (ulong)" + expr(u.a(), used) + ")";
                default -> "(-" + expr(u.a(), used) + ")";
            };
            case Ir.Binary b -> binary(b, used);
            case Ir.Convert c -> convert(c, used);
            case Ir.Narrow n -> n.signed()
                    ? "(as_int((uint)" + expr(n.a(), used) + " << " + (32 - n.bits()) + ") >> " + (32 - n.bits()) + ")"
                    : "(" + expr(n.a(), used) + " & 0xFFFF)";
            case Ir.Intrinsic i -> intrinsic(i, used);
            case Ir.Compare c -> compare(c, used);
            case Ir.Cmp3 c -> {
                type(c.operandType());
                String a = expr(c.a(), used);
                String b = expr(c.b(), used);
                yield c.operandType() == Ty.LONG || c.operandType() == Ty.INT
                        ? "(" + a + " < " + b + " ? -1 : (" + a + " == " + b + " ? 0 : 1))"
                        : "(" + a + " < " + b + " ? -1 : (" + a + " > " + b + " ? 1 : (" + a + " == " + b + " ? 0 : "
                        + intLiteral(c.nanResult()) + ")))";
            }
        };
    }

    private String binary(Ir.Binary b, Map<String, Var> used) {
        String x = expr(b.a(), used);
        String y = expr(b.b(), used);
        Ty t = b.type();
        boolean integer = t == Ty.INT || t == Ty.LONG;
        if (!integer) {
            return switch (b.op()) {
                case ADD -> "(" + x + " + " + y + ")";
                case SUB -> "(" + x + " - " + y + ")";
                case MUL -> "(" + x + " * " + y + ")";
                case DIV -> "(" + x + " / " + y + ")";
                case REM -> "fmod(" + x + ", " + y + ")";
                default -> throw new IllegalStateException(b.toString());
            };
        }
        String u = t == Ty.INT ? "uint" : "ulong";
        String as = t == Ty.INT ? "as_int" : "as_long";
        String suffix = t == Ty.INT ? "_i" : "_l";
        int mask = t == Ty.INT ? 31 : 63;
        boolean safeDivisor = b.b() instanceof Ir.Const c && c.value().longValue() != 0 && c.value().longValue() != -1;
        String count = b.b() instanceof Ir.Const c ? Integer.toString(c.value().intValue() & mask) : "(" + y + " & " + mask + ")";
        return switch (b.op()) {
            case ADD -> as + "((" + u + ")" + x + " + (" + u + ")" + y + ")";
            case SUB -> as + "((" + u + ")" + x + " - (" + u + ")" + y + ")";
            case MUL -> as + "((" + u + ")" + x + " * (" + u + ")" + y + ")";
            case DIV -> safeDivisor ? "(" + x + " / " + y + ")" : helper("jdiv" + suffix) + "(" + x + ", " + y + ")";
            case REM -> safeDivisor ? "(" + x + " % " + y + ")" : helper("jrem" + suffix) + "(" + x + ", " + y + ")";
            case AND -> "(" + x + " & " + y + ")";
            case OR -> "(" + x + " | " + y + ")";
            case XOR -> "(" + x + " ^ " + y + ")";
            case SHL -> as + "((" + u + ")" + x + " << " + count + ")";
            case SHR -> "(" + x + " >> " + count + ")";
            case USHR -> as + "((" + u + ")" + x + " >> " + count + ")";
            case NEG -> throw new IllegalStateException(b.toString());
        };
    }

    private String convert(Ir.Convert c, Map<String, Var> used) {
        String x = expr(c.a(), used);
        type(c.from());
        return switch (c.from().letter + c.type().letter) {
            case "ji" -> "as_int((uint)" + x + ")";
            case "fi" -> helper("jf2i") + "(" + x + ")";
            case "fj" -> helper("jf2l") + "(" + x + ")";
            case "di" -> helper("jd2i") + "(" + x + ")";
            case "dj" -> helper("jd2l") + "(" + x + ")";
            default -> "(" + c.type().c + ")" + x;
        };
    }

    private String intrinsic(Ir.Intrinsic i, Map<String, Var> used) {
        List<String> args = i.args().stream().map(a -> expr(a, used)).collect(Collectors.toList());
        String joined = String.join(", ", args);
        Ty t = i.type();
        return switch (i.name()) {
            case "get_global_id", "get_local_id", "get_group_id", "get_global_size", "get_local_size" ->
                    "(int)" + i.name() + "(" + joined + ")";
            case "abs" -> switch (t) {
                case INT -> "as_int(abs(" + joined + "))";
                case LONG -> "as_long(abs(" + joined + "))";
                default -> "fabs(" + joined + ")";
            };
            case "max", "min" -> t == Ty.INT || t == Ty.LONG ? i.name() + "(" + joined + ")"
                    : helper("j" + i.name() + (t == Ty.FLOAT ? "_f" : "_d")) + "(" + joined + ")";
            case "pow" -> helper(t == Ty.FLOAT ? "jpow_f" : "jpow_d") + "(" + joined + ")";
            case "floatToIntBits" -> helper("jfloat_bits") + "(" + joined + ")";
            case "isnan" -> "(" + joined + " != " + joined + ")";
            default -> i.name() + "(" + joined + ")";
        };
    }

    private String compare(Ir.Compare c, Map<String, Var> used) {
        type(c.operandType());
        String a = expr(c.a(), used);
        String b = expr(c.b(), used);
        boolean floating = c.operandType() == Ty.FLOAT || c.operandType() == Ty.DOUBLE;
        if (floating && c.cond().holds(c.nanResult())) {
            // true when unordered: the negation of the opposite ordered comparison
            return "!(" + a + " " + c.cond().negate().c + " " + b + ")";
        }
        return "(" + a + " " + c.cond().c + " " + b + ")";
    }

    private String helper(String name) {
        helpersUsed.add(name);
        if (name.endsWith("_d") || name.startsWith("jd2")) {
            usesDouble = true;
        }
        return name;
    }

    private String literal(Ir.Const c) {
        return switch (c.type()) {
            case INT -> intLiteral(c.value().intValue());
            case LONG -> {
                long v = c.value().longValue();
                yield v == Long.MIN_VALUE ? "(-9223372036854775807L - 1L)" : v < 0 ? "(" + v + "L)" : v + "L";
            }
            case FLOAT -> {
                float f = c.value().floatValue();
                if (Float.isNaN(f)) {
                    yield "as_float(0x7fc00000)";
                }
                if (Float.isInfinite(f)) {
                    yield f > 0 ? "INFINITY" : "(-INFINITY)";
                }
                String s = Float.toString(f) + "f";
                yield s.startsWith("-") ? "(" + s + ")" : s;
            }
            case DOUBLE -> {
                double d = c.value().doubleValue();
                if (Double.isNaN(d)) {
                    yield "as_double(0x7ff8000000000000L)";
                }
                if (Double.isInfinite(d)) {
                    yield d > 0 ? "((double)INFINITY)" : "(-(double)INFINITY)";
                }
                String s = Double.toString(d);
                yield s.startsWith("-") ? "(" + s + ")" : s;
            }
        };
    }

    private static String intLiteral(int v) {
        return v == Integer.MIN_VALUE ? "(-2147483647 - 1)" : v < 0 ? "(" + v + ")" : Integer.toString(v);
    }
}
