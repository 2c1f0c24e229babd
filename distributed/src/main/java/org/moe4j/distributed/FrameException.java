package org.moe4j.distributed;

/** A frame was malformed or not the one expected; the message names both ranks. */
final class FrameException extends Exception {
    private static final long serialVersionUID = 1L;

    FrameException(String message) {
        super(message);
    }
}
