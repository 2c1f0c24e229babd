package org.moe4j.distributed;

/** A handshake was refused, by this side (the peer did not prove it belongs) or by the other. */
final class HandshakeRefusedException extends Exception {
    private static final long serialVersionUID = 1L;

    HandshakeRefusedException(String message) {
        super(message);
    }
}
