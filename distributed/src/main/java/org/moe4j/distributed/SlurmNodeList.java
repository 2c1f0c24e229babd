package org.moe4j.distributed;

import java.util.ArrayList;
import java.util.List;

/**
 * Slurm's compressed host lists, as in {@code SLURM_JOB_NODELIST}: {@code node[10-12,20]},
 * {@code a[01-03],b7}, {@code rack[1-2]-gpu[01-02]}. A bracket holds comma-separated numbers and
 * ranges; a range keeps the width of its lower bound, so {@code [01-10]} gives {@code 01 .. 10}.
 */
public final class SlurmNodeList {
    /** Refuse lists that expand to more hosts than this (a typo such as {@code n[1-999999999]}). */
    public static final int MAX_HOSTS = 1_000_000;

    private SlurmNodeList() {
    }

    /**
     * Every host of a compressed list, in order.
     *
     * @param nodeList the compressed list (Not modified)
     * @throws IllegalArgumentException when the list is empty or malformed, with the list quoted
     */
    public static List<String> expand(String nodeList) {
        List<String> hosts = new ArrayList<>();
        for (String item : splitTopLevel(check(nodeList))) {
            expandItem(nodeList, item, "", hosts, MAX_HOSTS + 1);
        }
        if (hosts.size() > MAX_HOSTS) {
            throw malformed(nodeList, "more than " + MAX_HOSTS + " hosts");
        }
        return hosts;
    }

    /**
     * The first host of a compressed list, without expanding the rest; Slurm's rank 0 runs there
     * under the default block distribution.
     *
     * @param nodeList the compressed list (Not modified)
     * @throws IllegalArgumentException when the list is empty or malformed
     */
    public static String firstHost(String nodeList) {
        List<String> hosts = new ArrayList<>(1);
        expandItem(nodeList, splitTopLevel(check(nodeList)).getFirst(), "", hosts, 1);
        return hosts.getFirst();
    }

    private static String check(String nodeList) {
        if (nodeList == null || nodeList.isBlank()) {
            throw new IllegalArgumentException("Slurm node list is empty");
        }
        return nodeList.strip();
    }

    private static List<String> splitTopLevel(String list) {
        List<String> items = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < list.length(); i++) {
            char c = list.charAt(i);
            if (c == '[') {
                if (++depth > 1) {
                    throw malformed(list, "nested '['");
                }
            } else if (c == ']') {
                if (--depth < 0) {
                    throw malformed(list, "']' without '['");
                }
            } else if (c == ',' && depth == 0) {
                items.add(nonEmpty(list, list.substring(start, i)));
                start = i + 1;
            }
        }
        if (depth != 0) {
            throw malformed(list, "'[' without ']'");
        }
        items.add(nonEmpty(list, list.substring(start)));
        return items;
    }

    private static String nonEmpty(String list, String item) {
        if (item.isEmpty()) {
            throw malformed(list, "empty host name");
        }
        return item;
    }

    /** Appends prefix + expansions of item to hosts until limit hosts are there. */
    private static void expandItem(String list, String item, String prefix, List<String> hosts, int limit) {
        if (hosts.size() >= limit) {
            return;
        }
        int open = item.indexOf('[');
        if (open < 0) {
            hosts.add(prefix + item);
            return;
        }
        int close = item.indexOf(']', open);
        String head = prefix + item.substring(0, open);
        String rest = item.substring(close + 1);
        String body = item.substring(open + 1, close);
        if (body.isEmpty()) {
            throw malformed(list, "empty brackets");
        }
        for (String part : body.split(",", -1)) {
            int dash = part.indexOf('-');
            String lowText = dash < 0 ? part : part.substring(0, dash);
            String highText = dash < 0 ? part : part.substring(dash + 1);
            long low = number(list, lowText);
            long high = number(list, highText);
            if (high < low) {
                throw malformed(list, "range " + part + " runs backwards");
            }
            int width = lowText.length();
            for (long n = low; n <= high; n++) {
                if (hosts.size() >= limit) {
                    return;
                }
                String digits = Long.toString(n);
                String padded = "0".repeat(Math.max(0, width - digits.length())) + digits;
                expandItem(list, rest, head + padded, hosts, limit);
            }
        }
    }

    private static long number(String list, String text) {
        if (text.isEmpty() || text.length() > 18 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw malformed(list, "'" + text + "' is not a number");
        }
        return Long.parseLong(text);
    }

    private static IllegalArgumentException malformed(String list, String why) {
        return new IllegalArgumentException("malformed Slurm node list '" + list + "': " + why);
    }
}
