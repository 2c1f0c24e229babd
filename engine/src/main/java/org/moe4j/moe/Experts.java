package org.moe4j.moe;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import org.moe4j.nn.LayerContext;

/** Makes the {@link Expert} named by {@code moe.expert}: a built-in name or a class name. */
public final class Experts {
    /** Built-in expert names. */
    public static final String GELU = "gelu";
    public static final String SWIGLU = "swiglu";

    private Experts() {
    }

    /** Builds the experts {@code name} describes; the layer's random stream initialises them. */
    public static Expert create(String name, ExpertShape shape, LayerContext layer) {
        return switch (name) {
            case GELU -> new GeluExperts(shape, layer);
            case SWIGLU -> new SwiGluExperts(shape, layer);
            default -> {
                Constructor<? extends Expert> constructor = constructor(name);
                try {
                    yield constructor.newInstance(shape, layer);
                } catch (InvocationTargetException e) {
                    throw new IllegalArgumentException("moe.expert=" + name + ": its constructor failed: "
                            + e.getCause(), e.getCause());
                } catch (ReflectiveOperationException e) {
                    throw new IllegalArgumentException("moe.expert=" + name + " cannot be constructed: " + e, e);
                }
            }
        };
    }

    /** Throws unless {@code name} is a built-in expert or a loadable class that {@link #create} can build. */
    public static void check(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("moe.expert is missing: must be " + GELU + ", " + SWIGLU
                    + " or the fully-qualified name of a class implementing " + Expert.class.getName());
        }
        if (!name.equals(GELU) && !name.equals(SWIGLU)) {
            constructor(name);
        }
    }

    private static Constructor<? extends Expert> constructor(String name) {
        Class<?> type;
        try {
            type = Class.forName(name, false, Thread.currentThread().getContextClassLoader());
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalArgumentException("moe.expert=" + name + " is not allowed: must be " + GELU + ", "
                    + SWIGLU + " or the fully-qualified name of a class implementing " + Expert.class.getName()
                    + " on the class path (no class " + name + " was found; the moe launcher takes more classes with"
                    + " --classpath DIR or MOE_CLASSPATH)");
        }
        if (!Expert.class.isAssignableFrom(type)) {
            throw new IllegalArgumentException("moe.expert=" + name + ": class " + name + " does not implement "
                    + Expert.class.getName());
        }
        try {
            return type.asSubclass(Expert.class).getConstructor(ExpertShape.class, LayerContext.class);
        } catch (NoSuchMethodException e) {
            throw new IllegalArgumentException("moe.expert=" + name + ": class " + name
                    + " needs a public constructor (ExpertShape, LayerContext)");
        }
    }
}
