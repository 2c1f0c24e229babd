package org.moe4j.nn;

import java.util.Map;
import org.moe4j.tensor.Tensor;

/** A layer or model that owns parameters. */
public interface Module {

    /**
     * Adds this module's parameters to {@code into} under {@code prefix + name}, in a fixed order:
     * the order is the checkpoint's and the optimizer's, so it must not depend on anything but the
     * configuration.
     */
    void collectParameters(String prefix, Map<String, Tensor> into);
}
