package org.moe4j.kernels.compiler;

import java.lang.classfile.ClassModel;
import java.lang.classfile.CodeElement;
import java.lang.classfile.CodeModel;
import java.lang.classfile.Instruction;
import java.lang.classfile.Label;
import java.lang.classfile.MethodModel;
import java.lang.classfile.Opcode;
import java.lang.classfile.TypeKind;
import java.lang.classfile.attribute.CodeAttribute;
import java.lang.classfile.instruction.ArrayLoadInstruction;
import java.lang.classfile.instruction.ArrayStoreInstruction;
import java.lang.classfile.instruction.BranchInstruction;
import java.lang.classfile.instruction.ConstantInstruction;
import java.lang.classfile.instruction.ConvertInstruction;
import java.lang.classfile.instruction.FieldInstruction;
import java.lang.classfile.instruction.IncrementInstruction;
import java.lang.classfile.instruction.InvokeDynamicInstruction;
import java.lang.classfile.instruction.InvokeInstruction;
import java.lang.classfile.instruction.LabelTarget;
import java.lang.classfile.instruction.LineNumber;
import java.lang.classfile.instruction.LoadInstruction;
import java.lang.classfile.instruction.LocalVariable;
import java.lang.classfile.instruction.LookupSwitchInstruction;
import java.lang.classfile.instruction.MonitorInstruction;
import java.lang.classfile.instruction.NewMultiArrayInstruction;
import java.lang.classfile.instruction.NewObjectInstruction;
import java.lang.classfile.instruction.NewPrimitiveArrayInstruction;
import java.lang.classfile.instruction.NewReferenceArrayInstruction;
import java.lang.classfile.instruction.NopInstruction;
import java.lang.classfile.instruction.OperatorInstruction;
import java.lang.classfile.instruction.ReturnInstruction;
import java.lang.classfile.instruction.StackInstruction;
import java.lang.classfile.instruction.StoreInstruction;
import java.lang.classfile.instruction.SwitchCase;
import java.lang.classfile.instruction.TableSwitchInstruction;
import java.lang.classfile.instruction.ThrowInstruction;
import java.lang.classfile.instruction.TypeCheckInstruction;
import java.lang.constant.ClassDesc;
import java.lang.constant.MethodTypeDesc;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.moe4j.kernels.compiler.Ir.ArrayRef;
import org.moe4j.kernels.compiler.Ir.Expr;
import org.moe4j.kernels.compiler.Ir.Op;
import org.moe4j.kernels.compiler.Ir.Ty;
import org.moe4j.kernels.compiler.Ir.Var;

/**
 * Translates one method's bytecode into an {@link Ir.Function} by simulating the operand stack:
 * every value computed gets a temporary, loads of locals are read in place until the local is
 * written again, values crossing a jump are passed in stack variables named by depth and type.
 * Control flow follows the bytecode: each jump target becomes a label.
 *
 * <p>Double-precision values that only exist to be rounded to float ({@code (float) Math.exp(x)})
 * are kept as pure expression trees with a float twin; in {@link MathMode#RELAXED} a {@code d2f}
 * picks the twin, and a tree that is used as a double is computed in double.
 */
final class Translator {
    static final String CONTEXT = "org/moe4j/kernels/KernelContext";
    private static final String CONTEXT_DESCRIPTOR = "L" + CONTEXT + ";";

    private final Compilation unit;
    private final ClassModel owner;
    private final MethodModel method;
    private final Ir.Function fn;
    private final List<Boolean> arraySpaces;
    private final boolean relaxed;

    private final List<Val> stack = new ArrayList<>();
    private final Map<Integer, Val> references = new HashMap<>();
    private final Map<String, String> localNames = new HashMap<>();
    private final Set<Label> targets = new HashSet<>();
    private final Map<Label, List<Object>> entries = new HashMap<>();
    private final Set<Label> placed = new HashSet<>();
    private final Map<Label, String> labelNames = new LinkedHashMap<>();
    private final Set<String> temps = new HashSet<>();
    private int tempCount;
    private boolean reachable = true;
    private int bci;
    private int line = -1;

    Translator(Compilation unit, ClassModel owner, MethodModel method, boolean kernel, List<Boolean> arraySpaces,
               String name) {
        this.unit = unit;
        this.owner = owner;
        this.method = method;
        this.arraySpaces = arraySpaces;
        this.relaxed = unit.mode == MathMode.RELAXED;
        ClassDesc ret = method.methodTypeSymbol().returnType();
        Ty returnType = ret.descriptorString().equals("V") ? null : Ty.ofDescriptor(ret.descriptorString());
        this.fn = new Ir.Function(name, owner.thisClass().asInternalName().replace('/', '.') + "."
                + method.methodName().stringValue(), kernel, returnType);
        if (returnType == null && !ret.descriptorString().equals("V")) {
            bci = -1;
            throw refuse("a method returning " + ret.displayName() + " (helpers return void or a primitive)");
        }
    }

    /** A value on the simulated operand stack. */
    private static final class Val {
        enum Kind { VALUE, ARRAY, CONTEXT }

        final Kind kind;
        /** VALUE: a variable, a constant, or a pure tree not yet computed. */
        Expr expr;
        /** For a DOUBLE tree in relaxed mode: the same value computed in float; else null. */
        Expr floatForm;
        final ArrayRef array;

        private Val(Kind kind, Expr expr, Expr floatForm, ArrayRef array) {
            this.kind = kind;
            this.expr = expr;
            this.floatForm = floatForm;
            this.array = array;
        }

        static Val of(Expr e) {
            return new Val(Kind.VALUE, e, null, null);
        }

        static Val deferred(Expr e, Expr floatForm) {
            return new Val(Kind.VALUE, e, floatForm, null);
        }

        static Val array(ArrayRef a) {
            return new Val(Kind.ARRAY, null, null, a);
        }

        boolean wide() {
            return kind == Kind.VALUE && expr.type().wide();
        }
    }

    private static final Val CONTEXT_VAL = new Val(Val.Kind.CONTEXT, null, null, null);

    Ir.Function translate() {
        CodeModel code = method.code().orElse(null);
        if (code == null) {
            bci = -1;
            throw refuse("a method without bytecode (native or abstract)");
        }
        Set<Label> tryStarts = new HashSet<>();
        if (code instanceof CodeAttribute attribute) {
            attribute.exceptionHandlers().forEach(h -> tryStarts.add(h.tryStart()));
        }
        nameLocals(code);
        declareParameters();
        for (CodeElement e : code) {
            switch (e) {
                case BranchInstruction b -> targets.add(b.target());
                case TableSwitchInstruction t -> {
                    targets.add(t.defaultTarget());
                    t.cases().forEach(c -> targets.add(c.target()));
                }
                case LookupSwitchInstruction l -> {
                    targets.add(l.defaultTarget());
                    l.cases().forEach(c -> targets.add(c.target()));
                }
                default -> {
                }
            }
        }
        int offset = 0;
        for (CodeElement e : code) {
            switch (e) {
                case LabelTarget t when tryStarts.contains(t.label()) -> {
                    bci = offset;
                    throw refuse("exception handling (try/catch/finally)");
                }
                case LabelTarget t when targets.contains(t.label()) -> placeLabel(t.label());
                case LineNumber n -> line = n.line();
                case Instruction ins -> {
                    bci = offset;
                    if (reachable) {
                        instruction(ins);
                    }
                    offset += ins.sizeInBytes();
                }
                default -> {
                }
            }
        }
        Cleanup.foldTemps(fn, temps);
        return fn;
    }

    // ---- locals and parameters

    /** Names locals after the class file's local variable table where it has one name per slot and type. */
    private void nameLocals(CodeModel code) {
        Map<String, Set<String>> byKey = new LinkedHashMap<>();
        for (CodeElement e : code) {
            if (e instanceof LocalVariable lv) {
                String d = lv.typeSymbol().descriptorString();
                Ty t = Ty.ofDescriptor(d);
                String key = lv.slot() + (t != null ? t.letter : "a");
                byKey.computeIfAbsent(key, k -> new LinkedHashSet<>()).add(sanitize(lv.name().stringValue()));
            }
        }
        Map<String, Integer> uses = new HashMap<>();
        byKey.forEach((key, names) -> {
            if (names.size() == 1) {
                uses.merge(names.iterator().next() + "_", 1, Integer::sum);
            }
        });
        byKey.forEach((key, names) -> {
            if (names.size() == 1) {
                String candidate = names.iterator().next() + "_";
                localNames.put(key, uses.get(candidate) == 1 ? candidate : candidate + key);
            }
        });
    }

    private static String sanitize(String javaName) {
        return javaName.replaceAll("[^A-Za-z0-9_]", "_");
    }

    private Var local(int slot, Ty type) {
        String key = slot + type.letter;
        return fn.variable(localNames.getOrDefault(key, "l" + key), type);
    }

    private String arrayName(int slot) {
        return localNames.getOrDefault(slot + "a", "l" + slot + "a");
    }

    private void declareParameters() {
        MethodTypeDesc type = method.methodTypeSymbol();
        int slot = 0;
        int arrays = 0;
        for (int i = 0; i < type.parameterCount(); i++) {
            String d = type.parameterType(i).descriptorString();
            Ty scalar = Ty.ofDescriptor(d);
            if (d.equals(CONTEXT_DESCRIPTOR)) {
                references.put(slot++, CONTEXT_VAL);
            } else if (scalar != null) {
                fn.params.add(new Ir.Param(local(slot, scalar).name(), scalar, null));
                slot += scalar.wide() ? 2 : 1;
            } else if (d.length() == 2 && d.charAt(0) == '[' && "IJFD".indexOf(d.charAt(1)) >= 0) {
                Ty element = Ty.ofDescriptor(d.substring(1));
                String name = arrayName(slot);
                boolean local = !fn.kernel && arraySpaces.get(arrays);
                arrays++;
                ArrayRef ref = new ArrayRef(name, element, local, new Var(name + "len", Ty.INT), fn.params.size());
                fn.params.add(new Ir.Param(name, element, ref));
                references.put(slot++, Val.array(ref));
            } else {
                bci = -1;
                throw refuse("parameter " + (i + 1) + " of type " + type.parameterType(i).displayName()
                        + " (kernels and helpers take KernelContext, int, long, float, double and arrays of those)");
            }
        }
    }

    // ---- the operand stack

    private void push(Val v) {
        stack.add(v);
    }

    private Val pop() {
        if (stack.isEmpty()) {
            throw refuse("an empty operand stack (unexpected bytecode shape)");
        }
        return stack.removeLast();
    }

    private Val popArray() {
        Val v = pop();
        if (v.kind != Val.Kind.ARRAY) {
            throw refuse("an object reference where an array of int, long, float or double was expected");
        }
        return v;
    }

    private Var newTemp(Ty type) {
        Var t = fn.variable("t" + tempCount++, type);
        temps.add(t.name());
        return t;
    }

    private void emit(Ir.Stmt s) {
        fn.body.add(s);
    }

    private Val temp(Expr e) {
        Var t = newTemp(e.type());
        emit(new Ir.Assign(t, e));
        return Val.of(t);
    }

    private static boolean simple(Expr e) {
        return e instanceof Var || e instanceof Ir.Const
                || (e instanceof Ir.Intrinsic i && i.name().startsWith("get_"));
    }

    /** The value as an operand: a tree is computed into a temporary once. */
    private Expr use(Val v) {
        if (v.kind != Val.Kind.VALUE) {
            throw refuse("an object reference used as a value (arrays may only be indexed or passed on)");
        }
        if (!simple(v.expr)) {
            Var t = newTemp(v.expr.type());
            emit(new Ir.Assign(t, v.expr));
            v.expr = t;
        }
        return v.expr;
    }

    private Expr useInt(Val v) {
        Expr e = use(v);
        if (e.type() != Ty.INT) {
            throw refuse("an operand of type " + e.type() + " where an int was expected");
        }
        return e;
    }

    /** Before {@code local} is written: values on the stack that read it get a copy of its current value. */
    private void protect(Var local) {
        Var copy = null;
        for (Val v : stack) {
            if (v.kind == Val.Kind.VALUE && (Cleanup.mentions(v.expr, local) || Cleanup.mentions(v.floatForm, local))) {
                if (copy == null) {
                    copy = newTemp(local.type());
                    emit(new Ir.Assign(copy, local));
                }
                v.expr = Cleanup.substitute(v.expr, local, copy);
                v.floatForm = v.floatForm == null ? null : Cleanup.substitute(v.floatForm, local, copy);
            }
        }
    }

    // ---- control flow

    private String labelName(Label label) {
        return labelNames.computeIfAbsent(label, l -> "L" + labelNames.size());
    }

    /**
     * Moves the stack into the stack variables a jump target reads. Returns the stack's shape: a
     * {@link Ty} per value, and the {@link ArrayRef} (or {@link #CONTEXT_VAL}) itself for a
     * reference, which is known statically and travels without a variable.
     */
    private List<Object> flush() {
        List<Object> shape = new ArrayList<>();
        for (int d = 0; d < stack.size(); d++) {
            Val v = stack.get(d);
            if (v.kind == Val.Kind.ARRAY) {
                shape.add(v.array);
            } else if (v.kind == Val.Kind.CONTEXT) {
                shape.add(CONTEXT_VAL);
            } else {
                Expr e = use(v);
                Var s = fn.variable("s" + d + e.type().letter, e.type());
                emit(new Ir.Assign(s, e));
                shape.add(e.type());
            }
        }
        return shape;
    }

    private void jumpTo(Label target, List<Object> shape) {
        List<Object> known = entries.get(target);
        if (known == null) {
            if (placed.contains(target)) {
                known = List.of();
            } else {
                entries.put(target, shape);
                return;
            }
        }
        if (!known.equals(shape)) {
            throw refuse("values on the operand stack across a " + (placed.contains(target) ? "backward " : "")
                    + "jump that disagree with its target's");
        }
    }

    private void placeLabel(Label label) {
        List<Object> entry = entries.get(label);
        if (reachable) {
            List<Object> shape = flush();
            if (entry != null && !entry.equals(shape)) {
                throw refuse("operand stacks that disagree where control flow joins");
            }
            entry = shape;
        } else if (entry == null) {
            entry = List.of();
        }
        entries.put(label, entry);
        placed.add(label);
        emit(new Ir.Label(labelName(label)));
        stack.clear();
        for (int d = 0; d < entry.size(); d++) {
            switch (entry.get(d)) {
                case Ty t -> push(temp(fn.variable("s" + d + t.letter, t)));
                case ArrayRef a -> push(Val.array(a));
                default -> push(CONTEXT_VAL);
            }
        }
        reachable = true;
    }

    private void endBlock() {
        stack.clear();
        reachable = false;
    }

    // ---- instructions

    private void instruction(Instruction ins) {
        switch (ins) {
            case LoadInstruction l -> load(l);
            case StoreInstruction s -> store(s);
            case IncrementInstruction inc -> {
                Var v = local(inc.slot(), Ty.INT);
                protect(v);
                emit(new Ir.Assign(v, new Ir.Binary(Op.ADD, Ty.INT, v, new Ir.Const(Ty.INT, inc.constant()))));
            }
            case ConstantInstruction c -> constant(c.constantValue());
            case OperatorInstruction o -> operator(o);
            case ConvertInstruction c -> convert(c.fromType(), c.toType());
            case ArrayLoadInstruction a -> {
                Ty t = elementType(a.typeKind());
                Expr index = useInt(pop());
                ArrayRef array = popArray().array;
                checkElement(array, t);
                Var dst = newTemp(t);
                emit(new Ir.Load(dst, array, index));
                push(Val.of(dst));
            }
            case ArrayStoreInstruction a -> {
                Ty t = elementType(a.typeKind());
                Val value = pop();
                Val index = pop();
                ArrayRef array = popArray().array;
                checkElement(array, t);
                Expr i = useInt(index);
                emit(new Ir.Store(array, i, use(value)));
                if (array.param >= 0) {
                    fn.writtenParams.set(array.param);
                }
            }
            case BranchInstruction b -> branch(b);
            case ReturnInstruction r -> {
                if (r.typeKind() == TypeKind.VOID) {
                    emit(new Ir.Return(null));
                } else if (r.typeKind() == TypeKind.REFERENCE) {
                    throw refuse("returning an object reference");
                } else {
                    emit(new Ir.Return(use(pop())));
                }
                endBlock();
            }
            case FieldInstruction f -> field(f);
            case InvokeInstruction i -> invoke(i);
            case StackInstruction s -> stackOp(s.opcode());
            case TableSwitchInstruction t -> switchOn(t.defaultTarget(), t.cases());
            case LookupSwitchInstruction l -> switchOn(l.defaultTarget(), l.cases());
            case NopInstruction n -> {
            }
            case NewObjectInstruction n -> {
                String type = n.className().asInternalName().replace('/', '.');
                throw refuse(isThrowable(type) ? "throwing an exception (new " + type + ")"
                        : "object allocation (new " + type + ")");
            }
            case NewPrimitiveArrayInstruction n -> throw refuse("array allocation (new "
                    + n.typeKind().name().toLowerCase() + "[]; work-group arrays come from KernelContext.allocateFloatLocalArray)");
            case NewReferenceArrayInstruction n -> throw refuse("array allocation (new " + n.componentType().asInternalName() + "[])");
            case NewMultiArrayInstruction n -> throw refuse("array allocation (multianewarray)");
            case ThrowInstruction t -> throw refuse("throwing an exception (athrow)");
            case MonitorInstruction m -> throw refuse("synchronization (" + m.opcode().name().toLowerCase() + ")");
            case TypeCheckInstruction t -> throw refuse("a type check on an object (" + t.opcode().name().toLowerCase() + ")");
            case InvokeDynamicInstruction d -> throw refuse("invokedynamic (a lambda, or string concatenation)");
            default -> throw refuse("the instruction " + ins.opcode().name().toLowerCase());
        }
    }

    private boolean isThrowable(String type) {
        try {
            return Throwable.class.isAssignableFrom(Class.forName(type, false, unit.loader));
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    private void load(LoadInstruction l) {
        if (l.typeKind() == TypeKind.REFERENCE) {
            Val ref = references.get(l.slot());
            if (ref == null) {
                throw refuse("a local object variable (slot " + l.slot() + ") that holds neither an array nor the KernelContext");
            }
            push(ref);
        } else {
            push(Val.of(local(l.slot(), scalar(l.typeKind()))));
        }
    }

    private void store(StoreInstruction s) {
        Val v = pop();
        if (s.typeKind() == TypeKind.REFERENCE) {
            if (v.kind == Val.Kind.VALUE) {
                throw refuse("storing a value as an object reference");
            }
            Val old = references.get(s.slot());
            if (old != null && old.kind == Val.Kind.ARRAY && v.kind == Val.Kind.ARRAY && old.array != v.array) {
                throw refuse("assigning another array to the array variable " + old.array.name
                        + " (each array variable must name one array; swapping arrays is not supported)");
            }
            if (v.kind == Val.Kind.ARRAY && v.array.local && v.array.param < 0 && localNames.containsKey(s.slot() + "a")) {
                v.array.name = arrayName(s.slot());
            }
            references.put(s.slot(), v);
            return;
        }
        Var dst = local(s.slot(), scalar(s.typeKind()));
        protect(dst);
        Expr e;
        if (v.kind != Val.Kind.VALUE) {
            throw refuse("storing an object reference into a primitive variable");
        }
        e = v.expr;
        if (e.type() != dst.type()) {
            throw refuse("storing a " + e.type() + " into a " + dst.type() + " variable");
        }
        emit(new Ir.Assign(dst, simple(e) ? e : use(v)));
    }

    private void constant(Object value) {
        switch (value) {
            case Integer i -> push(Val.of(new Ir.Const(Ty.INT, i)));
            case Long l -> push(Val.of(new Ir.Const(Ty.LONG, l)));
            case Float f -> push(Val.of(new Ir.Const(Ty.FLOAT, f)));
            case Double d -> push(new Val(Val.Kind.VALUE, new Ir.Const(Ty.DOUBLE, d),
                    relaxed ? new Ir.Const(Ty.FLOAT, (float) (double) d) : null, null));
            case null -> throw refuse("the null reference");
            default -> throw refuse("an object constant (" + value + ")");
        }
    }

    private void operator(OperatorInstruction o) {
        Opcode op = o.opcode();
        switch (op) {
            case ARRAYLENGTH -> push(Val.of(popArray().array.length));
            case LCMP -> cmp3(Ty.LONG, 0);
            case FCMPL -> cmp3(Ty.FLOAT, -1);
            case FCMPG -> cmp3(Ty.FLOAT, 1);
            case DCMPL -> cmp3(Ty.DOUBLE, -1);
            case DCMPG -> cmp3(Ty.DOUBLE, 1);
            case INEG, LNEG, FNEG, DNEG -> {
                Val a = pop();
                Ty t = scalar(o.typeKind());
                if (t == Ty.DOUBLE && a.floatForm != null) {
                    push(Val.deferred(new Ir.Unary(Op.NEG, t, a.expr), new Ir.Unary(Op.NEG, Ty.FLOAT, a.floatForm)));
                } else {
                    push(temp(new Ir.Unary(Op.NEG, t, use(a))));
                }
            }
            default -> {
                Op binary = switch (op) {
                    case IADD, LADD, FADD, DADD -> Op.ADD;
                    case ISUB, LSUB, FSUB, DSUB -> Op.SUB;
                    case IMUL, LMUL, FMUL, DMUL -> Op.MUL;
                    case IDIV, LDIV, FDIV, DDIV -> Op.DIV;
                    case IREM, LREM, FREM, DREM -> Op.REM;
                    case IAND, LAND -> Op.AND;
                    case IOR, LOR -> Op.OR;
                    case IXOR, LXOR -> Op.XOR;
                    case ISHL, LSHL -> Op.SHL;
                    case ISHR, LSHR -> Op.SHR;
                    case IUSHR, LUSHR -> Op.USHR;
                    default -> throw refuse("the instruction " + op.name().toLowerCase());
                };
                Ty t = scalar(o.typeKind());
                Val b = pop();
                Val a = pop();
                if (t == Ty.DOUBLE && binary != Op.REM && a.floatForm != null && b.floatForm != null) {
                    push(Val.deferred(new Ir.Binary(binary, t, a.expr, b.expr),
                            new Ir.Binary(binary, Ty.FLOAT, a.floatForm, b.floatForm)));
                } else {
                    Expr x = use(a);
                    Expr y = use(b);
                    push(temp(new Ir.Binary(binary, t, x, y)));
                }
            }
        }
    }

    private void cmp3(Ty t, int nanResult) {
        Expr b = use(pop());
        Expr a = use(pop());
        push(Val.of(new Ir.Cmp3(t, a, b, nanResult)));
    }

    private void convert(TypeKind fromKind, TypeKind toKind) {
        Val a = pop();
        switch (toKind) {
            case BYTE -> push(temp(new Ir.Narrow(8, true, use(a))));
            case SHORT -> push(temp(new Ir.Narrow(16, true, use(a))));
            case CHAR -> push(temp(new Ir.Narrow(16, false, use(a))));
            default -> {
                Ty from = scalar(fromKind);
                Ty to = scalar(toKind);
                if (to == Ty.DOUBLE && relaxed) {
                    Expr x = use(a);
                    push(Val.deferred(new Ir.Convert(from, to, x),
                            from == Ty.FLOAT ? x : new Ir.Convert(from, Ty.FLOAT, x)));
                } else if (to == Ty.DOUBLE && from == Ty.FLOAT) {
                    push(Val.deferred(new Ir.Convert(from, to, use(a)), null));
                } else if (from == Ty.DOUBLE && to == Ty.FLOAT) {
                    push(temp(a.floatForm != null ? a.floatForm : new Ir.Convert(from, to, a.expr)));
                } else {
                    push(temp(new Ir.Convert(from, to, use(a))));
                }
            }
        }
    }

    private void branch(BranchInstruction b) {
        Opcode op = b.opcode();
        Ir.Cond cond = switch (op) {
            case IFEQ, IF_ICMPEQ -> Ir.Cond.EQ;
            case IFNE, IF_ICMPNE -> Ir.Cond.NE;
            case IFLT, IF_ICMPLT -> Ir.Cond.LT;
            case IFGE, IF_ICMPGE -> Ir.Cond.GE;
            case IFGT, IF_ICMPGT -> Ir.Cond.GT;
            case IFLE, IF_ICMPLE -> Ir.Cond.LE;
            case GOTO, GOTO_W -> null;
            default -> throw refuse("a comparison of object references (" + op.name().toLowerCase() + ")");
        };
        if (cond == null) {
            jumpTo(b.target(), flush());
            emit(new Ir.Goto(labelName(b.target())));
            endBlock();
            return;
        }
        Ir.Compare compare;
        switch (op) {
            case IFEQ, IFNE, IFLT, IFGE, IFGT, IFLE -> {
                Val v = pop();
                if (v.kind == Val.Kind.VALUE && v.expr instanceof Ir.Cmp3 c) {
                    compare = new Ir.Compare(cond, c.operandType(), c.a(), c.b(), c.nanResult());
                } else {
                    compare = new Ir.Compare(cond, Ty.INT, useInt(v), new Ir.Const(Ty.INT, 0), 0);
                }
            }
            default -> {
                Expr y = useInt(pop());
                Expr x = useInt(pop());
                compare = new Ir.Compare(cond, Ty.INT, x, y, 0);
            }
        }
        jumpTo(b.target(), flush());
        emit(new Ir.If(compare, labelName(b.target())));
    }

    private void switchOn(Label defaultTarget, List<SwitchCase> cases) {
        Expr key = useInt(pop());
        List<Object> types = flush();
        int[] keys = new int[cases.size()];
        String[] labels = new String[cases.size()];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = cases.get(i).caseValue();
            labels[i] = labelName(cases.get(i).target());
            jumpTo(cases.get(i).target(), types);
        }
        jumpTo(defaultTarget, types);
        emit(new Ir.Switch(key, keys, labels, labelName(defaultTarget)));
        endBlock();
    }

    private void field(FieldInstruction f) {
        String fieldOwner = f.owner().asInternalName();
        String name = f.name().stringValue();
        String where = fieldOwner.replace('/', '.') + "." + name;
        switch (f.opcode()) {
            case GETSTATIC, PUTSTATIC -> throw refuse("the static field " + where + " ("
                    + (f.opcode() == Opcode.GETSTATIC ? "read" : "written")
                    + "; use a compile-time constant, static final with a constant value, or a parameter)");
            case PUTFIELD -> throw refuse("writing the field " + where);
            default -> {
            }
        }
        if (!fieldOwner.equals(CONTEXT) || pop().kind != Val.Kind.CONTEXT) {
            throw refuse("reading the object field " + where);
        }
        String builtin;
        int dim = name.endsWith("y") || name.endsWith("Y") ? 1 : 0;
        builtin = switch (name) {
            case "globalIdx", "globalIdy" -> "get_global_id";
            case "localIdx", "localIdy" -> "get_local_id";
            case "groupIdx", "groupIdy" -> "get_group_id";
            case "globalGroupSizeX", "globalGroupSizeY" -> "get_global_size";
            case "localGroupSizeX", "localGroupSizeY" -> "get_local_size";
            default -> throw refuse("the KernelContext field " + name);
        };
        push(Val.of(new Ir.Intrinsic(builtin, Ty.INT, List.of(new Ir.Const(Ty.INT, dim)))));
    }

    private void invoke(InvokeInstruction i) {
        String callOwner = i.owner().asInternalName();
        String name = i.name().stringValue();
        MethodTypeDesc type = i.typeSymbol();
        String descriptor = type.descriptorString();
        String display = callOwner.replace('/', '.') + "." + name + descriptor;
        if (callOwner.equals(CONTEXT) && i.opcode() == Opcode.INVOKEVIRTUAL) {
            contextCall(name, descriptor);
            return;
        }
        if (i.opcode() != Opcode.INVOKESTATIC) {
            throw refuse("a call of the instance method " + display + " (kernels call static methods only)");
        }
        if (intrinsic(callOwner, name, descriptor)) {
            return;
        }
        if (callOwner.startsWith("java/") || callOwner.startsWith("javax/") || callOwner.startsWith("jdk/")
                || callOwner.startsWith("sun/")) {
            throw refuse("a call of " + display + " (supported library calls: Math.exp, log, sqrt, tanh, pow, abs,"
                    + " max, min, fma, floor, ceil; Float.floatToRawIntBits, intBitsToFloat, floatToIntBits, isNaN;"
                    + " Double.doubleToRawLongBits, longBitsToDouble, isNaN)");
        }
        ClassModel model = unit.classModel(callOwner);
        MethodModel callee = Compilation.find(model, name, descriptor);
        if (callee == null) {
            throw refuse("a call of " + display + ", which is not a static method with bytecode");
        }
        Val[] args = new Val[type.parameterCount()];
        for (int k = args.length - 1; k >= 0; k--) {
            args[k] = pop();
        }
        List<Boolean> spaces = new ArrayList<>();
        List<Object> callArgs = new ArrayList<>();
        for (int k = 0; k < args.length; k++) {
            String d = type.parameterType(k).descriptorString();
            if (d.equals(CONTEXT_DESCRIPTOR)) {
                continue;
            }
            if (d.startsWith("[")) {
                if (args[k].kind != Val.Kind.ARRAY) {
                    throw refuse("passing something other than an array to an array parameter of " + display);
                }
                spaces.add(args[k].array.local);
                callArgs.add(args[k].array);
            } else {
                callArgs.add(use(args[k]));
            }
        }
        Ir.Function f = unit.helper(callOwner, callee, spaces);
        if (f == null) {
            throw refuse("a recursive call of " + display + " (recursion is not supported)");
        }
        Var dst = f.returnType == null ? null : newTemp(f.returnType);
        emit(new Ir.Invoke(dst, f, callArgs));
        f.writtenParams.stream().forEach(p -> {
            ArrayRef a = (ArrayRef) callArgs.get(p);
            if (a.param >= 0) {
                fn.writtenParams.set(a.param);
            }
        });
        if (dst != null) {
            push(Val.of(dst));
        }
    }

    private void contextCall(String name, String descriptor) {
        switch (name + descriptor) {
            case "localBarrier()V" -> {
                requireContext(pop());
                emit(new Ir.Barrier());
            }
            case "allocateFloatLocalArray(I)[F", "allocateIntLocalArray(I)[I" -> {
                Val size = pop();
                requireContext(pop());
                if (!fn.kernel) {
                    throw refuse("a work-group local array allocated in a helper method (OpenCL declares them at"
                            + " kernel scope: allocate it in the kernel and pass it to the helper)");
                }
                if (!(size.expr instanceof Ir.Const c) || c.type() != Ty.INT || c.value().intValue() < 1) {
                    throw refuse("a work-group local array whose size is not a positive compile-time constant");
                }
                Ty element = name.startsWith("allocateFloat") ? Ty.FLOAT : Ty.INT;
                ArrayRef ref = new ArrayRef("local" + fn.localArrays.size(), element, true, c, -1);
                fn.localArrays.add(ref);
                push(Val.array(ref));
            }
            default -> throw refuse("the KernelContext method " + name + descriptor);
        }
    }

    private void requireContext(Val v) {
        if (v.kind != Val.Kind.CONTEXT) {
            throw refuse("a KernelContext call on another object");
        }
    }

    /** Math, Float and Double methods the device has; false when {@code owner.name} is none of them. */
    private boolean intrinsic(String callOwner, String name, String descriptor) {
        boolean math = callOwner.equals("java/lang/Math") || callOwner.equals("java/lang/StrictMath");
        if (math) {
            switch (name + descriptor) {
                case "exp(D)D", "log(D)D", "sqrt(D)D", "tanh(D)D", "floor(D)D", "ceil(D)D", "abs(D)D" -> {
                    Val a = pop();
                    Expr x = a.kind == Val.Kind.VALUE && !simple(a.expr) ? a.expr : use(a);
                    push(Val.deferred(new Ir.Intrinsic(name, Ty.DOUBLE, List.of(x)), a.floatForm == null ? null
                            : new Ir.Intrinsic(name, Ty.FLOAT, List.of(a.floatForm))));
                    return true;
                }
                case "pow(DD)D" -> {
                    Val b = pop();
                    Val a = pop();
                    if (a.floatForm != null && b.floatForm != null) {
                        push(Val.deferred(new Ir.Intrinsic(name, Ty.DOUBLE, List.of(a.expr, b.expr)),
                                new Ir.Intrinsic(name, Ty.FLOAT, List.of(a.floatForm, b.floatForm))));
                    } else {
                        Expr x = use(a);
                        push(temp(new Ir.Intrinsic(name, Ty.DOUBLE, List.of(x, use(b)))));
                    }
                    return true;
                }
                case "abs(I)I", "abs(J)J", "abs(F)F" -> {
                    push(temp(new Ir.Intrinsic(name, Ty.ofDescriptor(descriptor.substring(1, 2)), List.of(use(pop())))));
                    return true;
                }
                case "max(II)I", "min(II)I", "max(JJ)J", "min(JJ)J", "max(FF)F", "min(FF)F", "max(DD)D", "min(DD)D" -> {
                    Expr b = use(pop());
                    Expr a = use(pop());
                    push(temp(new Ir.Intrinsic(name, a.type(), List.of(a, b))));
                    return true;
                }
                case "fma(FFF)F", "fma(DDD)D" -> {
                    Expr c = use(pop());
                    Expr b = use(pop());
                    Expr a = use(pop());
                    push(temp(new Ir.Intrinsic(name, a.type(), List.of(a, b, c))));
                    return true;
                }
                default -> {
                    return false;
                }
            }
        }
        String bits = switch (callOwner + "." + name + descriptor) {
            case "java/lang/Float.floatToRawIntBits(F)I" -> "as_int";
            case "java/lang/Float.intBitsToFloat(I)F" -> "as_float";
            case "java/lang/Float.floatToIntBits(F)I" -> "floatToIntBits";
            case "java/lang/Float.isNaN(F)Z", "java/lang/Double.isNaN(D)Z" -> "isnan";
            case "java/lang/Double.doubleToRawLongBits(D)J" -> "as_long";
            case "java/lang/Double.longBitsToDouble(J)D" -> "as_double";
            default -> null;
        };
        if (bits == null) {
            return false;
        }
        Ty result = Ty.ofDescriptor(descriptor.substring(descriptor.indexOf(')') + 1));
        push(temp(new Ir.Intrinsic(bits, result, List.of(use(pop())))));
        return true;
    }

    private void stackOp(Opcode op) {
        switch (op) {
            case POP -> pop();
            case POP2 -> {
                if (!pop().wide()) {
                    pop();
                }
            }
            case DUP -> {
                Val v = pop();
                push(v);
                push(v);
            }
            case DUP_X1 -> {
                Val v1 = pop();
                Val v2 = pop();
                push(v1);
                push(v2);
                push(v1);
            }
            case DUP_X2 -> {
                Val v1 = pop();
                Val v2 = pop();
                if (v2.wide()) {
                    push(v1);
                    push(v2);
                    push(v1);
                } else {
                    Val v3 = pop();
                    push(v1);
                    push(v3);
                    push(v2);
                    push(v1);
                }
            }
            case DUP2 -> {
                Val v1 = pop();
                if (v1.wide()) {
                    push(v1);
                    push(v1);
                } else {
                    Val v2 = pop();
                    push(v2);
                    push(v1);
                    push(v2);
                    push(v1);
                }
            }
            case DUP2_X1 -> {
                Val v1 = pop();
                if (v1.wide()) {
                    Val v2 = pop();
                    push(v1);
                    push(v2);
                    push(v1);
                } else {
                    Val v2 = pop();
                    Val v3 = pop();
                    push(v2);
                    push(v1);
                    push(v3);
                    push(v2);
                    push(v1);
                }
            }
            case DUP2_X2 -> {
                Val v1 = pop();
                if (v1.wide()) {
                    Val v2 = pop();
                    if (v2.wide()) {
                        push(v1);
                        push(v2);
                        push(v1);
                    } else {
                        Val v3 = pop();
                        push(v1);
                        push(v3);
                        push(v2);
                        push(v1);
                    }
                } else {
                    Val v2 = pop();
                    Val v3 = pop();
                    if (v3.wide()) {
                        push(v2);
                        push(v1);
                        push(v3);
                        push(v2);
                        push(v1);
                    } else {
                        Val v4 = pop();
                        push(v2);
                        push(v1);
                        push(v4);
                        push(v3);
                        push(v2);
                        push(v1);
                    }
                }
            }
            case SWAP -> {
                Val v1 = pop();
                Val v2 = pop();
                push(v1);
                push(v2);
            }
            default -> throw refuse("the instruction " + op.name().toLowerCase());
        }
    }

    // ---- types and errors

    private Ty scalar(TypeKind kind) {
        return switch (kind) {
            case INT, BOOLEAN, BYTE, SHORT, CHAR -> Ty.INT;
            case LONG -> Ty.LONG;
            case FLOAT -> Ty.FLOAT;
            case DOUBLE -> Ty.DOUBLE;
            default -> throw refuse("a value of type " + kind.name().toLowerCase());
        };
    }

    private Ty elementType(TypeKind kind) {
        return switch (kind) {
            case INT -> Ty.INT;
            case LONG -> Ty.LONG;
            case FLOAT -> Ty.FLOAT;
            case DOUBLE -> Ty.DOUBLE;
            default -> throw refuse("an array of " + kind.name().toLowerCase()
                    + " (arrays of int, long, float and double are supported)");
        };
    }

    private void checkElement(ArrayRef array, Ty t) {
        if (array.element != t) {
            throw refuse("an access of " + array.name + " as " + t + " elements");
        }
    }

    private KernelCompileException refuse(String construct) {
        return new KernelCompileException(unit.kernel, owner.thisClass().asInternalName().replace('/', '.'),
                method.methodName().stringValue(), bci, line, construct);
    }
}
