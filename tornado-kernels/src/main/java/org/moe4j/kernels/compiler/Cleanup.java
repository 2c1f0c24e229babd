package org.moe4j.kernels.compiler;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.moe4j.kernels.compiler.Ir.Expr;
import org.moe4j.kernels.compiler.Ir.Var;

/** Small rewrites of the IR: variable uses and substitution, and folding a temporary into the variable it is copied to. */
final class Cleanup {
    private Cleanup() {
    }

    static boolean mentions(Expr e, Var v) {
        if (e == null) {
            return false;
        }
        boolean[] found = new boolean[1];
        forEachNode(e, x -> found[0] |= x.equals(v));
        return found[0];
    }

    /** Calls {@code action} on {@code e} and on every expression inside it, outermost first. */
    static void forEachNode(Expr e, Consumer<Expr> action) {
        action.accept(e);
        switch (e) {
            case Var x -> {
            }
            case Ir.Const c -> {
            }
            case Ir.Unary u -> forEachNode(u.a(), action);
            case Ir.Binary b -> {
                forEachNode(b.a(), action);
                forEachNode(b.b(), action);
            }
            case Ir.Convert c -> forEachNode(c.a(), action);
            case Ir.Narrow n -> forEachNode(n.a(), action);
            case Ir.Intrinsic i -> i.args().forEach(a -> forEachNode(a, action));
            case Ir.Compare c -> {
                forEachNode(c.a(), action);
                forEachNode(c.b(), action);
            }
            case Ir.Cmp3 c -> {
                forEachNode(c.a(), action);
                forEachNode(c.b(), action);
            }
        }
    }

    static Expr substitute(Expr e, Var from, Var to) {
        return switch (e) {
            case Var x -> x.equals(from) ? to : x;
            case Ir.Const c -> c;
            case Ir.Unary u -> new Ir.Unary(u.op(), u.type(), substitute(u.a(), from, to));
            case Ir.Binary b -> new Ir.Binary(b.op(), b.type(), substitute(b.a(), from, to), substitute(b.b(), from, to));
            case Ir.Convert c -> new Ir.Convert(c.from(), c.type(), substitute(c.a(), from, to));
            case Ir.Narrow n -> new Ir.Narrow(n.bits(), n.signed(), substitute(n.a(), from, to));
            case Ir.Intrinsic i -> new Ir.Intrinsic(i.name(), i.type(),
                    i.args().stream().map(a -> substitute(a, from, to)).toList());
            case Ir.Compare c -> new Ir.Compare(c.cond(), c.operandType(), substitute(c.a(), from, to),
                    substitute(c.b(), from, to), c.nanResult());
            case Ir.Cmp3 c -> new Ir.Cmp3(c.operandType(), substitute(c.a(), from, to), substitute(c.b(), from, to),
                    c.nanResult());
        };
    }

    /**
     * {@code t = e; x = t;} with {@code t} a temporary used nowhere else becomes {@code x = e;}
     * (likewise for loads and calls), so that {@code sum += e} reads {@code sum_ = sum_ + e_}.
     */
    static void foldTemps(Ir.Function fn, Set<String> temps) {
        Map<String, Integer> uses = new HashMap<>();
        for (Ir.Stmt s : fn.body) {
            for (Expr e : operands(s)) {
                count(e, uses);
            }
        }
        List<Ir.Stmt> out = new ArrayList<>(fn.body.size());
        for (int i = 0; i < fn.body.size(); i++) {
            Ir.Stmt s = fn.body.get(i);
            Var t = defined(s);
            if (t != null && temps.contains(t.name()) && i + 1 < fn.body.size()
                    && fn.body.get(i + 1) instanceof Ir.Assign(Var dst, Var src) && src.equals(t)
                    && dst.type() == t.type() && uses.getOrDefault(t.name(), 0) == 1) {
                out.add(redefine(s, dst));
                i++;
            } else {
                out.add(s);
            }
        }
        fn.body.clear();
        fn.body.addAll(out);
    }

    private static Var defined(Ir.Stmt s) {
        return switch (s) {
            case Ir.Assign a -> a.dst();
            case Ir.Load l -> l.dst();
            case Ir.Invoke i -> i.dst();
            default -> null;
        };
    }

    private static Ir.Stmt redefine(Ir.Stmt s, Var dst) {
        return switch (s) {
            case Ir.Assign a -> new Ir.Assign(dst, a.value());
            case Ir.Load l -> new Ir.Load(dst, l.array(), l.index());
            case Ir.Invoke i -> new Ir.Invoke(dst, i.callee(), i.args());
            default -> throw new IllegalStateException(s.toString());
        };
    }

    /** The expressions a statement reads. */
    static List<Expr> operands(Ir.Stmt s) {
        return switch (s) {
            case Ir.Assign a -> List.of(a.value());
            case Ir.Load l -> List.of(l.index());
            case Ir.Store st -> List.of(st.index(), st.value());
            case Ir.Invoke i -> i.args().stream().filter(a -> a instanceof Expr).map(a -> (Expr) a).toList();
            case Ir.If f -> List.of(f.cond());
            case Ir.Switch w -> List.of(w.key());
            case Ir.Return r -> r.value() == null ? List.of() : List.of(r.value());
            default -> List.of();
        };
    }

    private static void count(Expr e, Map<String, Integer> uses) {
        forEachNode(e, x -> {
            if (x instanceof Var v) {
                uses.merge(v.name(), 1, Integer::sum);
            }
        });
    }
}
