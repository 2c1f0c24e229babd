package org.moe4j.distributed;

/** A handshake was refused, by this side (the peer did not prove it belongs) or by the other. */
final class HandshakeRefusedException extends Exception {
    private static final long serialVersionUID = 1L;

    private final boolean byPeer;

    /** This side refuses the peer, for the reason given. */
    HandshakeRefusedException(String reason) {
        this(reason, false);
    }

    HandshakeRefusedException(String reason, boolean byPeer) {
        super(reason);
        this.byPeer = byPeer;
    }

    /** Whether the other side refused this process (else this side refused the other). */
    boolean byPeer() {
        return byPeer;
    }
}
