package org.moe4j.kernels.compiler;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
        return switch (e) {
            case Var x -> x.equals(v);
            case Ir.Const c -> false;
            case Ir.Unary u -> mentions(u.a(), v);
            case Ir.Binary b -> mentions(b.a(), v) || mentions(b.b(), v);
            case Ir.Convert c -> mentions(c.a(), v);
            case Ir.Narrow n -> mentions(n.a(), v);
            case Ir.Intrinsic i -> i.args().stream().anyMatch(a -> mentions(a, v));
            case Ir.Compare c -> mentions(c.a(), v) || mentions(c.b(), v);
            case Ir.Cmp3 c -> mentions(c.a(), v) || mentions(c.b(), v);
        };
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
        switch (e) {
            case Var x -> uses.merge(x.name(), 1, Integer::sum);
            case Ir.Const c -> {
            }
            case Ir.Unary u -> count(u.a(), uses);
            case Ir.Binary b -> {
                count(b.a(), uses);
                count(b.b(), uses);
            }
            case Ir.Convert c -> count(c.a(), uses);
            case Ir.Narrow n -> count(n.a(), uses);
            case Ir.Intrinsic i -> i.args().forEach(a -> count(a, uses));
            case Ir.Compare c -> {
                count(c.a(), uses);
                count(c.b(), uses);
            }
            case Ir.Cmp3 c -> {
                count(c.a(), uses);
                count(c.b(), uses);
            }
        }
    }
}
