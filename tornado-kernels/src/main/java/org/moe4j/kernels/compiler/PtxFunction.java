package org.moe4j.kernels.compiler;

import static org.moe4j.kernels.compiler.PtxCode.arith;
import static org.moe4j.kernels.compiler.PtxCode.bytes;
import static org.moe4j.kernels.compiler.PtxCode.paramType;
import static org.moe4j.kernels.compiler.PtxCode.regType;
import static org.moe4j.kernels.compiler.PtxCode.space;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.moe4j.kernels.compiler.Ir.ArrayRef;
import org.moe4j.kernels.compiler.Ir.Expr;
import org.moe4j.kernels.compiler.Ir.Var;
import org.moe4j.kernels.compiler.PtxCode.Scratch;

/**
 * The PTX of one IR function: its signature, its local arrays as {@code .shared}, register
 * declarations, the parameters loaded (a kernel's arrays made global with {@code cvta.to.global}),
 * and its statements; expressions are {@link PtxExpressions}'. A helper is a {@code .func}, a
 * barrier {@code bar.sync 0}.
 */
final class PtxFunction {
    private final Ir.Function fn;
    private final PtxCode code = new PtxCode();
    private final PtxExpressions expressions;

    /** @param math the {@link DeviceMath} translations by Java name, as {@link PtxExpressions} takes them */
    PtxFunction(Ir.Function fn, Map<String, Ir.Function> math) {
        this.fn = fn;
        this.expressions = new PtxExpressions(code, math, fn.javaName);
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
        code.appendTo(out, addresses);
        return out.append("}\n").toString();
    }

    /** Parameters into registers; a kernel's arrays as global addresses, its local arrays' shared addresses. */
    private void prologue() {
        for (Ir.Param p : fn.params) {
            if (p.isArray()) {
                code.emit("ld.param.u64 %" + p.name() + ", [" + p.name() + "]");
                if (fn.kernel) {
                    code.emit("cvta.to.global.u64 %" + p.name() + ", %" + p.name());
                }
                Var length = (Var) p.array().length;
                code.emit("ld.param.u32 " + code.name(length) + ", [" + p.name() + "len]");
            } else {
                code.emit("ld.param." + paramType(p.type()).substring(1) + " " + code.name(fn.variable(p.name(), p.type()))
                        + ", [" + p.name() + "]");
            }
        }
        for (ArrayRef a : fn.localArrays) {
            code.emit("mov.u64 %" + a.name + ", " + a.name);
        }
    }

    // ---- statements

    private void statement(Ir.Stmt s) {
        switch (s) {
            case Ir.Assign a -> expressions.eval(a.value(), code.name(a.dst()));
            case Ir.Load l -> code.emit("ld." + space(l.array()) + "." + arith(l.dst().type()) + " " + code.name(l.dst()) + ", "
                    + address(l.array(), l.index()));
            case Ir.Store st -> {
                String value = expressions.register(st.value());
                code.emit("st." + space(st.array()) + "." + arith(st.value().type()) + " " + address(st.array(), st.index())
                        + ", " + value);
            }
            case Ir.Invoke i -> {
                List<String> args = new ArrayList<>();
                for (Object a : i.args()) {
                    if (a instanceof ArrayRef r) {
                        args.add("%" + r.name);
                        args.add(expressions.register(r.length));
                    } else {
                        args.add(expressions.register((Expr) a));
                    }
                }
                code.call(i.callee(), args, i.dst() == null ? null : code.name(i.dst()));
            }
            case Ir.Label l -> code.line(l.name() + ":");
            case Ir.Goto g -> code.emit("bra " + g.label());
            case Ir.If f -> code.emit("@" + expressions.predicate(f.cond()) + " bra " + f.label());
            case Ir.Switch w -> {
                String key = expressions.register(w.key());
                for (int k = 0; k < w.keys().length; k++) {
                    String p = code.scratch(Scratch.PRED);
                    code.emit("setp.eq.s32 " + p + ", " + key + ", " + w.keys()[k]);
                    code.emit("@" + p + " bra " + w.labels()[k]);
                }
                code.emit("bra " + w.defaultLabel());
            }
            case Ir.Return r -> {
                if (r.value() != null) {
                    String value = expressions.register(r.value());
                    code.emit("st.param." + paramType(r.value().type()).substring(1) + " [result], " + value);
                }
                code.emit("ret");
            }
            // bar.sync orders shared and global memory for the work-group, as barrier() with both fences does
            case Ir.Barrier b -> code.emit("bar.sync 0");
        }
    }

    /** {@code [address]} of element {@code index} of {@code array}. */
    private String address(ArrayRef array, Expr index) {
        int size = bytes(array.element);
        if (index instanceof Ir.Const c && c.value().intValue() >= 0) {
            return "[%" + array.name + "+" + (long) c.value().intValue() * size + "]";
        }
        String offset = code.scratch(Scratch.B64);
        code.emit("mul.wide.s32 " + offset + ", " + expressions.register(index) + ", " + size);
        String at = code.scratch(Scratch.B64);
        code.emit("add.s64 " + at + ", %" + array.name + ", " + offset);
        return "[" + at + "]";
    }
}
