package org.moe4j.kernels.compiler;

import java.util.List;
import java.util.Map;

/**
 * Prints IR functions as one PTX module: the header ({@code .version}, {@code .target},
 * {@code .address_size 64}), a prototype of every {@code .func} (so that calls need no particular
 * order), then each function as {@link PtxFunction} prints it, the {@code .entry} last.
 */
final class PtxPrinter {
    private PtxPrinter() {
    }

    /**
     * @param functions the kernel's functions, callees first, the kernel last
     * @param math      the {@link DeviceMath} translations they call, by Java name; printed first
     */
    static String module(String javaKernel, MathMode mode, PtxTarget target, List<Ir.Function> functions,
                         Map<String, Ir.Function> math) {
        StringBuilder out = new StringBuilder();
        out.append("// ").append(javaKernel).append(", translated by moe4j (").append(mode.name().toLowerCase())
                .append(" math)\n");
        out.append(".version ").append(target.isaVersion()).append('\n');
        out.append(".target ").append(target.name()).append('\n');
        out.append(".address_size 64\n");
        String prototypes = "";
        for (Ir.Function f : functions) {
            if (!f.kernel) {
                prototypes += PtxFunction.signature(f) + ";\n";
            }
        }
        if (!prototypes.isEmpty()) {
            out.append('\n').append(prototypes);
        }
        for (Ir.Function f : functions) {
            out.append('\n').append(new PtxFunction(f, math).print());
        }
        return out.toString();
    }
}
