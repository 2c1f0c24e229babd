package org.moe4j.kernels.compiler;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The compiler's typed three-address IR. A function is a list of statements over variables; every
 * value the bytecode computes gets its own temporary ({@code t7}), every local slot and type its own
 * variable ({@code sum_}), and values left on the operand stack across a jump travel in stack
 * variables ({@code s0f}). Control flow stays unstructured: labels, gotos and conditional gotos.
 * Expressions are pure; side effects (array stores, calls, barriers) are statements.
 */
final class Ir {
    private Ir() {
    }

    /** The primitive types of the IR; Java's boolean, byte, short and char values are {@code INT}. */
    enum Ty {
        INT("int", "i"), LONG("long", "j"), FLOAT("float", "f"), DOUBLE("double", "d");

        final String c;
        final String letter;

        Ty(String c, String letter) {
            this.c = c;
            this.letter = letter;
        }

        boolean wide() {
            return this == LONG || this == DOUBLE;
        }

        /** The type of a primitive field or method descriptor ({@code I}, {@code Z}, {@code J}, ...); null otherwise. */
        static Ty ofDescriptor(String d) {
            return switch (d) {
                case "I", "Z", "B", "S", "C" -> INT;
                case "J" -> LONG;
                case "F" -> FLOAT;
                case "D" -> DOUBLE;
                default -> null;
            };
        }
    }

    enum Op { ADD, SUB, MUL, DIV, REM, AND, OR, XOR, SHL, SHR, USHR, NEG }

    enum Cond {
        EQ("=="), NE("!="), LT("<"), GE(">="), GT(">"), LE("<=");

        final String c;

        Cond(String c) {
            this.c = c;
        }

        Cond negate() {
            return switch (this) {
                case EQ -> NE;
                case NE -> EQ;
                case LT -> GE;
                case GE -> LT;
                case GT -> LE;
                case LE -> GT;
            };
        }

        boolean holds(int cmp) {
            return switch (this) {
                case EQ -> cmp == 0;
                case NE -> cmp != 0;
                case LT -> cmp < 0;
                case GE -> cmp >= 0;
                case GT -> cmp > 0;
                case LE -> cmp <= 0;
            };
        }
    }

    /** An expression: pure, typed. */
    sealed interface Expr permits Var, Const, Unary, Binary, Convert, Narrow, Intrinsic, Compare, Cmp3 {
        Ty type();
    }

    record Var(String name, Ty type) implements Expr {
    }

    /** A literal; {@code value} is an Integer, Long, Float or Double matching {@code type}. */
    record Const(Ty type, Number value) implements Expr {
    }

    record Unary(Op op, Ty type, Expr a) implements Expr {
    }

    /** {@code a op b}; for shifts {@code b} is an int and {@code type} is the type of {@code a}. */
    record Binary(Op op, Ty type, Expr a, Expr b) implements Expr {
    }

    record Convert(Ty from, Ty type, Expr a) implements Expr {
    }

    /** {@code (int)(byte)a}, {@code (int)(short)a}, {@code (int)(char)a}: {@code bits} 8, 16 signed or 16 unsigned. */
    record Narrow(int bits, boolean signed, Expr a) implements Expr {
        @Override
        public Ty type() {
            return Ty.INT;
        }
    }

    /**
     * A built-in: Math functions ({@code exp}, {@code max}, ...), bit conversions
     * ({@code floatToRawIntBits}, ...), and work-item queries ({@code get_global_id} with the
     * dimension as its argument).
     */
    record Intrinsic(String name, Ty type, List<Expr> args) implements Expr {
    }

    /**
     * A comparison of two values of {@code operandType} that is true or false; for floating point,
     * {@code nanResult} is what the bytecode's three-way compare yields when an operand is NaN
     * ({@code -1} for {@code fcmpl}, {@code 1} for {@code fcmpg}), compared with 0 by {@code cond}.
     */
    record Compare(Cond cond, Ty operandType, Expr a, Expr b, int nanResult) implements Expr {
        @Override
        public Ty type() {
            return Ty.INT;
        }
    }

    /** Java's three-way compare ({@code lcmp}, {@code fcmpl}, ...) as an int -1, 0 or 1. */
    record Cmp3(Ty operandType, Expr a, Expr b, int nanResult) implements Expr {
        @Override
        public Ty type() {
            return Ty.INT;
        }
    }

    /**
     * An array a function can index: a parameter ({@code param >= 0}, its length a hidden
     * parameter) or a work-group local array of constant length declared by a kernel.
     */
    static final class ArrayRef {
        String name;
        final Ty element;
        final boolean local;
        final Expr length;
        final int param;

        ArrayRef(String name, Ty element, boolean local, Expr length, int param) {
            this.name = name;
            this.element = element;
            this.local = local;
            this.length = length;
            this.param = param;
        }
    }

    sealed interface Stmt permits Assign, Load, Store, Invoke, Label, Goto, If, Switch, Return, Barrier {
    }

    record Assign(Var dst, Expr value) implements Stmt {
    }

    record Load(Var dst, ArrayRef array, Expr index) implements Stmt {
    }

    record Store(ArrayRef array, Expr index, Expr value) implements Stmt {
    }

    /** A call of a helper function; {@code args} holds an {@link Expr} or an {@link ArrayRef} per callee parameter. */
    record Invoke(Var dst, Function callee, List<Object> args) implements Stmt {
    }

    record Label(String name) implements Stmt {
    }

    record Goto(String label) implements Stmt {
    }

    record If(Compare cond, String label) implements Stmt {
    }

    record Switch(Expr key, int[] keys, String[] labels, String defaultLabel) implements Stmt {
    }

    record Return(Expr value) implements Stmt {
    }

    /** {@code KernelContext.localBarrier()}. */
    record Barrier() implements Stmt {
    }

    /** A parameter: a scalar of {@code type}, or an array of {@code type} elements with its length. */
    record Param(String name, Ty type, ArrayRef array) {
        boolean isArray() {
            return array != null;
        }
    }

    /** A translated method: the kernel itself or a helper it calls (specialised per address space of its array arguments). */
    static final class Function {
        final String name;
        final String javaName;
        final boolean kernel;
        final Ty returnType;
        final List<Param> params = new ArrayList<>();
        final Map<String, Var> variables = new LinkedHashMap<>();
        final List<ArrayRef> localArrays = new ArrayList<>();
        final List<Stmt> body = new ArrayList<>();
        /** Parameters (by index in {@link #params}) that the function or a helper it calls stores into. */
        final BitSet writtenParams = new BitSet();

        Function(String name, String javaName, boolean kernel, Ty returnType) {
            this.name = name;
            this.javaName = javaName;
            this.kernel = kernel;
            this.returnType = returnType;
        }

        Var variable(String name, Ty type) {
            Var v = variables.computeIfAbsent(name, n -> new Var(n, type));
            if (v.type() != type) {
                throw new IllegalStateException("variable " + name + " has type " + v.type() + ", not " + type);
            }
            return v;
        }
    }
}
