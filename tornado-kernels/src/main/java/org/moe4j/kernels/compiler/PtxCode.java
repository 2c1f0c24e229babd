package org.moe4j.kernels.compiler;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.moe4j.kernels.compiler.Ir.ArrayRef;
import org.moe4j.kernels.compiler.Ir.Ty;
import org.moe4j.kernels.compiler.Ir.Var;

/**
 * The instructions of one PTX function as they are emitted, and the registers they use: a register
 * per IR variable ({@code %sum_}) and scratch registers named as nvcc names them ({@code %r3},
 * {@code %rd3}, {@code %f3}, {@code %fd3}, {@code %p3}), which no IR name can take, since those end
 * in {@code _} or a type letter. Also PTX's spelling of types and literals.
 */
final class PtxCode {
    /** Scratch register kinds: prefix and declared type. */
    enum Scratch {
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

    private final StringBuilder code = new StringBuilder();
    private final int[] scratchCount = new int[Scratch.values().length];
    private final Map<String, Var> variables = new LinkedHashMap<>();

    /** One instruction, indented, with its {@code ;}. */
    void emit(String instruction) {
        code.append("    ").append(instruction).append(";\n");
    }

    /** A line as it is: a label, or a brace of a call's block. */
    void line(String text) {
        code.append(text).append('\n');
    }

    /** A new scratch register of {@code kind}. */
    String scratch(Scratch kind) {
        return kind.prefix + scratchCount[kind.ordinal()]++;
    }

    /** The register of an IR variable, declared with the function. */
    String name(Var v) {
        variables.putIfAbsent(v.name(), v);
        return "%" + v.name();
    }

    /**
     * A call of a translated function with arguments in registers (an array as its address and its
     * length), the result into {@code result} (null for none).
     */
    void call(Ir.Function callee, List<String> args, String result) {
        line("    {");
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
        line("    }");
    }

    /** Register declarations (array addresses, the variables by type, the scratch registers), then the instructions. */
    void appendTo(StringBuilder out, List<String> addresses) {
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
        out.append(code);
    }

    private static void declare(StringBuilder out, String type, List<String> names) {
        for (int i = 0; i < names.size(); i += 10) {
            out.append("    .reg ").append(type).append(' ')
                    .append(String.join(", ", names.subList(i, Math.min(names.size(), i + 10)))).append(";\n");
        }
    }

    // ---- types and literals

    static String space(ArrayRef a) {
        return a.local ? "shared" : "global";
    }

    static int bytes(Ty t) {
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

    static String bits(Ty t) {
        return t.wide() ? "b64" : "b32";
    }

    static String regType(Ty t) {
        return "." + arith(t);
    }

    /** The type of a parameter or result in the {@code .param} space. */
    static String paramType(Ty t) {
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
    }}
