package org.moe4j.data;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import org.moe4j.random.SplitMix64;

/**
 * A deterministic multi-domain corpus generated from a seed, small enough in structure for a tiny
 * byte-level transformer to learn in a few hundred steps: short ASCII lines, one example per line,
 * each domain recognisable by its shape ({@link #domainOf(String)}) and checkable
 * ({@link #isCorrect(String)}), so generations can be scored per domain.
 *
 * <pre>
 * arithmetic  17+25=42        63-8=55
 * sort        sort 5 2 9 -&gt; 2 5 9
 * reverse     reverse cat -&gt; tac
 * grammar     the small dog sees a red ball.
 * brackets    ([]{}) ok       (] bad
 * </pre>
 *
 * <p>Same seed, same text, byte for byte, on every JVM: the generator is {@link SplitMix64} and the
 * word lists are fixed here, so changing a list changes every corpus and needs a new seed story.
 */
public final class SyntheticCorpus {

    private static final List<String> DOMAINS = List.of("arithmetic", "sort", "reverse", "grammar", "brackets");

    private static final String[] WORDS = {"cat", "dog", "sun", "tree", "moon", "fish", "bird", "rain", "stone",
            "river", "apple", "house", "light", "green", "table", "music", "cloud", "water", "bread", "field"};
    private static final String[] DETERMINERS = {"the", "a"};
    private static final String[] ADJECTIVES = {"small", "big", "red", "old", "quiet", "happy", "dark"};
    private static final String[] NOUNS = {"dog", "cat", "bird", "child", "farmer", "ball", "tree", "boat", "book"};
    private static final String[] VERBS = {"sees", "likes", "finds", "follows", "carries", "watches"};

    private SyntheticCorpus() {
    }

    /** The domain names, in the order {@link #generate} draws them from. */
    public static List<String> domains() {
        return DOMAINS;
    }

    /**
     * Newline-terminated example lines from all domains (chosen uniformly per line) until the text
     * is at least {@code approxBytes} long; it overshoots by less than one line. ASCII only, so
     * bytes and characters are the same.
     *
     * @throws IllegalArgumentException if {@code approxBytes <= 0}
     */
    public static String generate(long seed, int approxBytes) {
        if (approxBytes <= 0) {
            throw new IllegalArgumentException("approxBytes must be positive, got " + approxBytes);
        }
        SplitMix64 rng = new SplitMix64(seed);
        StringBuilder sb = new StringBuilder(approxBytes + 64);
        while (sb.length() < approxBytes) {
            sb.append(line(rng, DOMAINS.get(rng.nextInt(DOMAINS.size())))).append('\n');
        }
        return sb.toString();
    }

    /**
     * One example line of {@code domain} (no newline), drawn from {@code rng}.
     *
     * @throws IllegalArgumentException if {@code domain} is not one of {@link #domains()}
     */
    public static String line(SplitMix64 rng, String domain) {
        return switch (domain) {
            case "arithmetic" -> arithmetic(rng);
            case "sort" -> sort(rng);
            case "reverse" -> {
                String w = WORDS[rng.nextInt(WORDS.length)];
                yield "reverse " + w + " -> " + new StringBuilder(w).reverse();
            }
            case "grammar" -> grammar(rng);
            case "brackets" -> brackets(rng);
            default -> throw new IllegalArgumentException("unknown domain \"" + domain + "\"; domains are " + DOMAINS);
        };
    }

    /** The domain whose shape {@code line} has, or {@code null} if it fits none (e.g. a bad sample). */
    public static String domainOf(String line) {
        if (line.matches("\\d+[+-]\\d+=-?\\d+")) {
            return "arithmetic";
        } else if (line.matches("sort [0-9 ]+ -> [0-9 ]+")) {
            return "sort";
        } else if (line.matches("reverse [a-z]+ -> [a-z]+")) {
            return "reverse";
        } else if (line.matches("[()\\[\\]{}]+ (ok|bad)")) {
            return "brackets";
        } else if (line.matches("(the|a) [a-z ]+\\.")) {
            return "grammar";
        }
        return null;
    }

    /** Whether {@code line} is a correct example of its domain: right sum, sorted, reversed, labelled. */
    public static boolean isCorrect(String line) {
        String domain = domainOf(line);
        if (domain == null) {
            return false;
        }
        switch (domain) {
            case "arithmetic": {
                int op = line.indexOf('+') >= 0 ? line.indexOf('+') : line.indexOf('-');
                int eq = line.indexOf('=');
                long a = Long.parseLong(line.substring(0, op));
                long b = Long.parseLong(line.substring(op + 1, eq));
                long c = Long.parseLong(line.substring(eq + 1));
                return line.charAt(op) == '+' ? a + b == c : a - b == c;
            }
            case "sort":
            case "reverse": {
                String[] parts = line.substring(line.indexOf(' ') + 1).split(" -> ", -1);
                if (parts.length != 2) {
                    return false;
                }
                if (domain.equals("reverse")) {
                    return new StringBuilder(parts[0]).reverse().toString().equals(parts[1]);
                }
                char[] in = parts[0].replace(" ", "").toCharArray();
                Arrays.sort(in);
                return String.join(" ", new String(in).split("")).equals(parts[1]);
            }
            case "brackets":
                return line.endsWith(" ok") == balanced(line.substring(0, line.indexOf(' ')));
            default: // grammar: DET ADJ? NOUN VERB DET ADJ? NOUN.
                String[] w = line.substring(0, line.length() - 1).split(" ");
                int[] i = {0};
                return nounPhrase(w, i) && i[0] < w.length && Arrays.asList(VERBS).contains(w[i[0]++])
                        && nounPhrase(w, i) && i[0] == w.length;
        }
    }

    private static String arithmetic(SplitMix64 rng) {
        int a = rng.nextInt(100);
        int b = rng.nextInt(100);
        if (rng.nextInt(2) == 0) {
            return a + "+" + b + "=" + (a + b);
        }
        // Subtract the smaller from the larger: negative results would add a rare '-' case to learn.
        return Math.max(a, b) + "-" + Math.min(a, b) + "=" + (Math.max(a, b) - Math.min(a, b));
    }

    private static String sort(SplitMix64 rng) {
        int n = 3 + rng.nextInt(4);
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            v[i] = rng.nextInt(10);
        }
        StringBuilder sb = new StringBuilder("sort");
        for (int x : v) {
            sb.append(' ').append(x);
        }
        Arrays.sort(v);
        sb.append(" ->");
        for (int x : v) {
            sb.append(' ').append(x);
        }
        return sb.toString();
    }

    private static String grammar(SplitMix64 rng) {
        return nounPhrase(rng) + " " + VERBS[rng.nextInt(VERBS.length)] + " " + nounPhrase(rng) + ".";
    }

    private static String nounPhrase(SplitMix64 rng) {
        String det = DETERMINERS[rng.nextInt(DETERMINERS.length)];
        String noun = NOUNS[rng.nextInt(NOUNS.length)];
        return rng.nextInt(2) == 0 ? det + " " + noun : det + " " + ADJECTIVES[rng.nextInt(ADJECTIVES.length)] + " " + noun;
    }

    private static boolean nounPhrase(String[] w, int[] i) {
        if (i[0] >= w.length || !Arrays.asList(DETERMINERS).contains(w[i[0]])) {
            return false;
        }
        i[0]++;
        if (i[0] < w.length && Arrays.asList(ADJECTIVES).contains(w[i[0]])) {
            i[0]++;
        }
        return i[0] < w.length && Arrays.asList(NOUNS).contains(w[i[0]++]);
    }

    private static String brackets(SplitMix64 rng) {
        String s;
        if (rng.nextInt(2) == 0) {
            s = balancedString(rng, 1 + rng.nextInt(4));
        } else {
            // Random strings are mostly unbalanced: the "bad" half of the examples.
            StringBuilder sb = new StringBuilder();
            int n = 2 + rng.nextInt(7);
            for (int i = 0; i < n; i++) {
                sb.append("()[]{}".charAt(rng.nextInt(6)));
            }
            s = sb.toString();
        }
        // The label always comes from the checker, so a random string that happens to balance says "ok".
        return s + (balanced(s) ? " ok" : " bad");
    }

    private static String balancedString(SplitMix64 rng, int pairs) {
        if (pairs == 0) {
            return "";
        }
        int inside = rng.nextInt(pairs);
        int kind = rng.nextInt(3);
        return "([{".charAt(kind) + balancedString(rng, inside) + ")]}".charAt(kind) + balancedString(rng, pairs - 1 - inside);
    }

    private static boolean balanced(String s) {
        Deque<Character> open = new ArrayDeque<>();
        for (char c : s.toCharArray()) {
            int o = "([{".indexOf(c);
            if (o >= 0) {
                open.push(")]}".charAt(o));
            } else if (open.isEmpty() || open.pop() != c) {
                return false;
            }
        }
        return open.isEmpty();
    }
}
