package org.moe4j.kernels;

/**
 * Copies between host and device memory since a device was opened.
 *
 * @param uploads         host-to-device copies
 * @param downloads       device-to-host copies
 * @param bytesUploaded   bytes of the uploads
 * @param bytesDownloaded bytes of the downloads
 */
public record Transfers(long uploads, long downloads, long bytesUploaded, long bytesDownloaded) {
}
