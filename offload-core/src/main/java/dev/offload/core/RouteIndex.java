package dev.offload.core;

import dev.offload.core.internal.HttpMethods;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Routes indexed by the literal first path segments they allow, and by the standard method, so
 * that {@code decide} tests only the routes that can match: a table of 50 routes costs one hash
 * probe and a few tests, not 50 scans. Routes without a literal first segment are candidates for
 * every path, and routes without a method condition for every method. The candidate lists keep
 * the table's order, so the first match is the same as in a full scan. Lookups do not allocate.
 */
final class RouteIndex {
  /** Methods with lists of their own; any other method gets the unfiltered list. */
  private static final int OTHER_METHOD = HttpMethods.ROUTED.size();

  private final String[] keys;
  /** [slot][method index] -> route indexes. */
  private final int[][][] candidates;
  /** [method index] -> route indexes, for a path whose first segment no route names. */
  private final int[][] others;
  private final int mask;

  RouteIndex(List<RequestMatcher> matchers) {
    Map<String, List<Integer>> bySegment = new HashMap<>();
    List<Integer> wildcard = new ArrayList<>();
    for (int i = 0; i < matchers.size(); i++) {
      Set<String> segments = matchers.get(i).firstSegments();
      if (segments == null) {
        wildcard.add(i);
      } else {
        // an And of disjoint segments matches nothing: then it is in no list at all
        for (String segment : segments) {
          bySegment.computeIfAbsent(segment, s -> new ArrayList<>()).add(i);
        }
      }
    }
    this.others = byMethod(wildcard, matchers);
    int size = Integer.highestOneBit(Math.max(4, bySegment.size() * 4 - 1)) << 1;
    this.mask = size - 1;
    this.keys = new String[size];
    this.candidates = new int[size][][];
    for (Map.Entry<String, List<Integer>> e : bySegment.entrySet()) {
      List<Integer> merged = new ArrayList<>(e.getValue());
      merged.addAll(wildcard);
      merged.sort(null);
      int slot = spread(e.getKey().hashCode()) & mask;
      while (keys[slot] != null) {
        slot = (slot + 1) & mask;
      }
      keys[slot] = e.getKey();
      candidates[slot] = byMethod(merged, matchers);
    }
  }

  /** Splits a candidate list per method, dropping the routes whose methods exclude it. */
  private static int[][] byMethod(List<Integer> routes, List<RequestMatcher> matchers) {
    int[][] lists = new int[OTHER_METHOD + 1][];
    for (int m = 0; m < OTHER_METHOD; m++) {
      List<Integer> kept = new ArrayList<>();
      for (int route : routes) {
        Set<String> methods = matchers.get(route).methods();
        if (methods == null || methods.contains(HttpMethods.ROUTED.get(m))) {
          kept.add(route);
        }
      }
      lists[m] = toArray(kept);
    }
    lists[OTHER_METHOD] = toArray(routes);
    return lists;
  }

  /** Returns the indexes, in table order, of the routes that may match {@code method path}. */
  int[] candidates(String method, String path) {
    return forPath(path)[HttpMethods.index(method)];
  }

  private int[][] forPath(String path) {
    int end = path.indexOf('/', 1);
    if (end < 0) {
      end = path.length();
    }
    int len = end - 1;
    int h = 0;
    for (int i = 1; i < end; i++) {
      h = 31 * h + path.charAt(i);
    }
    int slot = spread(h) & mask;
    String key;
    while ((key = keys[slot]) != null) {
      if (key.length() == len && path.regionMatches(1, key, 0, len)) {
        return candidates[slot];
      }
      slot = (slot + 1) & mask;
    }
    return others;
  }

  private static int spread(int h) {
    return h ^ (h >>> 16);
  }

  private static int[] toArray(List<Integer> list) {
    int[] array = new int[list.size()];
    for (int i = 0; i < array.length; i++) {
      array[i] = list.get(i);
    }
    return array;
  }
}
