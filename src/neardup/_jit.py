"""The compiled loops behind :mod:`neardup.kernels` (imported only when numba is
installed and the compiled path is on: importing numba costs ~75 MB and ~0.25 s)."""

from __future__ import annotations

import numba
import numpy as np

_P1 = np.uint64(0x9E3779B185EBCA87)
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)
_P3 = np.uint64(0x165667B19E3779F9)
_P4 = np.uint64(0x85EBCA77C2B2AE63)
_P5 = np.uint64(0x27D4EB2F165667C5)
# the constants of neardup.shingles
_PRIME = np.uint64(0x100000001B3)
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_LOW32 = np.uint64(0xFFFFFFFF)

_jit = numba.njit(cache=True, nogil=True)


@_jit
def _rotl(x, r):
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


@_jit
def _read_le(buf, p, width):
    """The ``width`` bytes at ``p`` as a little-endian unsigned integer."""
    v = np.uint64(0)
    for j in range(width):
        v |= np.uint64(buf[p + j]) << np.uint64(8 * j)
    return v


@_jit
def _code_point(buf, i):
    """The character whose UTF-8 sequence (of two bytes or more) starts at ``i``, and
    the length of the sequence."""
    b0 = buf[i]
    if b0 < 0xE0:
        return (np.int64(b0 & 0x1F) << 6) | np.int64(buf[i + 1] & 0x3F), 2
    if b0 < 0xF0:
        return ((np.int64(b0 & 0x0F) << 12) | (np.int64(buf[i + 1] & 0x3F) << 6)
                | np.int64(buf[i + 2] & 0x3F)), 3  # fmt: skip
    return ((np.int64(b0 & 0x07) << 18) | (np.int64(buf[i + 1] & 0x3F) << 12)
            | (np.int64(buf[i + 2] & 0x3F) << 6) | np.int64(buf[i + 3] & 0x3F)), 4  # fmt: skip


@_jit
def _round(acc, lane):
    acc = acc + lane * _P2
    return _rotl(acc, 31) * _P1


@_jit
def _merge(acc, v):
    acc ^= _round(np.uint64(0), v)
    return acc * _P1 + _P4


@_jit
def xxh64(buf, start, end):
    """XXH64 with seed 0 of ``buf[start:end]`` (what ``xxhash.xxh64_intdigest``
    gives)."""
    n = end - start
    p = start
    if n >= 32:
        v1 = _P1 + _P2
        v2 = _P2
        v3 = np.uint64(0)
        v4 = np.uint64(0) - _P1
        limit = end - 32
        while p <= limit:
            v1 = _round(v1, _read_le(buf, p, 8))
            v2 = _round(v2, _read_le(buf, p + 8, 8))
            v3 = _round(v3, _read_le(buf, p + 16, 8))
            v4 = _round(v4, _read_le(buf, p + 24, 8))
            p += 32
        h = _rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)
        h = _merge(h, v1)
        h = _merge(h, v2)
        h = _merge(h, v3)
        h = _merge(h, v4)
    else:
        h = _P5
    h += np.uint64(n)
    while p + 8 <= end:
        h ^= _round(np.uint64(0), _read_le(buf, p, 8))
        h = _rotl(h, 27) * _P1 + _P4
        p += 8
    if p + 4 <= end:
        h ^= _read_le(buf, p, 4) * _P1
        h = _rotl(h, 23) * _P2 + _P3
        p += 4
    while p < end:
        h ^= np.uint64(buf[p]) * _P5
        h = _rotl(h, 11) * _P1
        p += 1
    h ^= h >> np.uint64(33)
    h *= _P2
    h ^= h >> np.uint64(29)
    h *= _P3
    h ^= h >> np.uint64(32)
    return h


@_jit
def _fmix64(h):
    h ^= h >> np.uint64(33)
    h *= _MIX1
    h ^= h >> np.uint64(33)
    h *= _MIX2
    return h ^ (h >> np.uint64(33))


@_jit
def _may_repeat(hashes, n, k, min_words, density):
    """:func:`neardup.repair._may_repeat` on the token hashes ``hashes[:n]``."""
    if n < min_words + k:
        return False
    m = n - k + 1
    keys = np.empty(m, dtype=np.uint64)
    for i in range(m):
        acc = hashes[i]
        for j in range(1, k):
            acc = acc * _PRIME + hashes[i + j]
        keys[i] = acc
    # later[p]: the k-gram at p occurred at an earlier position (an open-addressing
    # table of the k-grams seen so far)
    size = 16
    while size < 2 * m:
        size *= 2
    slots = np.empty(size, dtype=np.uint64)
    used = np.zeros(size, dtype=np.bool_)
    later = np.zeros(m, dtype=np.bool_)
    repeated = 0
    for p in range(m):
        key = keys[p]
        i = (key ^ (key >> np.uint64(32))) & np.uint64(size - 1)
        while used[i] and slots[i] != key:
            i = (i + np.uint64(1)) & np.uint64(size - 1)
        if used[i]:
            later[p] = True
            repeated += 1
        else:
            used[i] = True
            slots[i] = key
    if repeated * k < min_words:
        return False
    # covered[i]: word i lies in a k-gram seen earlier; then the best window
    covered = np.zeros(n + 1, dtype=np.int64)
    for p in range(m):
        if later[p]:
            covered[p] += 1
            covered[p + k] -= 1
    sums = np.zeros(n + 1, dtype=np.int64)
    depth = 0
    for i in range(n):
        depth += covered[i]
        sums[i + 1] = sums[i] + (1 if depth > 0 else 0)
    need = density * min_words / 2
    best = 0
    for i in range(min_words, n + 1):
        s = sums[i] - sums[i - min_words]
        if s > best:
            best = s
    return best >= need


@_jit
def _scan(buf, offsets, ngram, rk, min_words, density):
    docs = len(offsets) - 1
    # one pass; the outputs are sized for the most words the bytes can hold
    most = 1
    for d in range(docs):
        most = max(most, (offsets[d + 1] - offsets[d] + 1) // 2)
    bound = (len(buf) + docs) // 2 + 1
    tokens = np.zeros(docs, dtype=np.int64)
    sh_off = np.zeros(docs + 1, dtype=np.int64)
    p_off = np.zeros(docs + 1, dtype=np.int64)
    shingles = np.empty(bound, dtype=np.uint32)
    para_words = np.empty(bound, dtype=np.int64)
    para_first = np.empty(bound, dtype=np.int64)
    para_start = np.empty(bound, dtype=np.int64)
    para_end = np.empty(bound, dtype=np.int64)
    keys = np.empty(len(buf), dtype=np.uint8)
    k_off = np.zeros(docs + 1, dtype=np.int64)
    may = np.zeros(docs, dtype=np.bool_)
    hashes = np.empty(most, dtype=np.uint64)
    kp = 0
    pi = 0
    # hash the words, copy them into the keys, then shingles
    for d in range(docs):
        t = 0
        line_words = 0
        start = -1
        end = offsets[d + 1]
        i = offsets[d]
        while i <= end:
            c = buf[i] if i < end else np.uint8(10)
            if c == 32 or c == 10:
                if start >= 0:  # a word ends
                    hashes[t] = xxh64(buf, start, i)
                    if t > 0:
                        keys[kp] = 32
                        kp += 1
                    if line_words == 0:
                        para_start[pi] = kp
                        para_first[pi] = t
                    for j in range(start, i):
                        keys[kp] = buf[j]
                        kp += 1
                    t += 1
                    line_words += 1
                    start = -1
                if c == 10 and line_words > 0:
                    para_end[pi] = kp
                    para_words[pi] = line_words
                    pi += 1
                    line_words = 0
            elif start < 0:
                start = i
            i += 1
        tokens[d] = t
        k_off[d + 1] = kp
        p_off[d + 1] = pi
        n_sh = 0 if t == 0 else t - min(ngram, t) + 1
        sh_off[d + 1] = sh_off[d] + n_sh
        for q in range(p_off[d], pi):
            para_first[q] = min(para_first[q], n_sh)
        if t > 0:
            g = min(ngram, t)
            base = sh_off[d]
            for s in range(n_sh):
                acc = hashes[s]
                for j in range(1, g):
                    acc = acc * _PRIME + hashes[s + j]
                shingles[base + s] = np.uint32(_fmix64(acc) & _LOW32)
        if rk > 0:
            may[d] = _may_repeat(hashes, t, rk, min_words, density)
    shingles = shingles[: sh_off[docs]]
    para_words = para_words[:pi]
    para_first = para_first[:pi]
    para_start = para_start[:pi]
    para_end = para_end[:pi]
    return (tokens, shingles, sh_off, para_words, para_first, para_start, para_end,
            p_off, keys[:kp], k_off, may)  # fmt: skip


_C1 = np.uint64(0x85EBCA6B)
_C2 = np.uint64(0xC2B2AE35)
_EMPTY = np.uint32(0xFFFFFFFF)


@_jit
def _fmix32(h):
    h = np.uint64(h)
    h ^= h >> np.uint64(16)
    h = (h * _C1) & _LOW32
    h ^= h >> np.uint64(13)
    h = (h * _C2) & _LOW32
    return h ^ (h >> np.uint64(16))


@_jit
def _minhash_into(values, a, b, out):
    """``out`` = MinHash of ``values`` (affine32 on the fmix32 of each value)."""
    mixed = np.empty(len(values), dtype=np.uint32)
    for i in range(len(values)):
        mixed[i] = np.uint32(_fmix32(values[i]))
    for k in range(len(a)):  # permutation outside: the inner loop vectorises
        ak, bk = a[k], b[k]
        low = _EMPTY
        for x in mixed:
            v = np.uint32(ak * x + bk)  # modulo 2**32
            if v < low:
                low = v
        out[k] = low


@_jit
def _radix_sort(values):
    """``values`` (uint32) sorted: four counting passes of 8 bits (numba's own sort
    is several times slower than numpy's on these short arrays)."""
    src = values.copy()
    dst = np.empty_like(src)
    count = np.empty(257, dtype=np.int64)
    for shift in range(0, 32, 8):
        sh = np.uint32(shift)
        count[:] = 0
        for v in src:
            count[((v >> sh) & np.uint32(255)) + 1] += 1
        for i in range(256):
            count[i + 1] += count[i]
        for v in src:
            digit = (v >> sh) & np.uint32(255)
            dst[count[digit]] = v
            count[digit] += 1
        src, dst = dst, src
    return src


@_jit
def _sorted_unique(values):
    s = _radix_sort(values)
    n = 0
    for i in range(len(s)):
        if i == 0 or s[i] != s[i - 1]:
            s[n] = s[i]
            n += 1
    return s[:n]


@_jit
def _content(flat, sh_off, p_off, para_first, drop, lead, a, b, with_leads):
    docs = len(sh_off) - 1
    perms = len(a)
    sigs = np.empty((docs, perms), dtype=np.uint32)
    leads = np.empty((docs if with_leads else 0, perms), dtype=np.uint32)
    sizes = np.zeros(docs, dtype=np.int64)
    joined = np.empty(sh_off[docs] - sh_off[0], dtype=np.uint32)
    pos = 0
    for d in range(docs):
        sh = flat[sh_off[d] : sh_off[d + 1]]
        pa, pb = p_off[d], p_off[d + 1]
        marked = 0
        for q in range(pa, pb):
            if drop[q]:
                marked += 1
        if marked > 0 and marked < pb - pa:
            keep = np.ones(len(sh), dtype=np.bool_)
            for q in range(pa, pb):
                if drop[q]:
                    end = para_first[q + 1] if q + 1 < pb else len(sh)
                    for t in range(para_first[q], end):
                        keep[t] = False
            sh = sh[keep]
        content = _sorted_unique(sh)
        sizes[d] = len(content)
        joined[pos : pos + len(content)] = content
        pos += len(content)
        _minhash_into(content, a, b, sigs[d])
        if with_leads:
            _minhash_into(sh[:lead], a, b, leads[d])
    return joined[:pos], sizes, sigs, leads


_LEN1 = np.uint64(0xFF)
_LEN2 = np.uint64(0xFFFFFFF00)
_LEN3 = np.uint64(0xFFFFFFF000000000)


@_jit
def _is_hspace(c):
    """A character ``collapse_whitespace`` or ``strip_control`` would act on (other
    than the space and the line break)."""
    return (
        c < 32
        and c != 10
        or 0x7F <= c <= 0xA0
        or c == 0xFEFF
        or c == 0x1680
        or 0x2000 <= c <= 0x200A
        or c == 0x202F
        or c == 0x205F
        or c == 0x3000
    )


_ONES = np.uint64(0x0101010101010101)
_HIGHS = np.uint64(0x8080808080808080)
_LOWS7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_SPACES = np.uint64(0x2020202020202020)
_AMPS = np.uint64(0x2626262626262626)


@_jit
def _zero_bytes(x):
    """The high bit of each byte of ``x`` that is 0, and no other bit."""
    return ~(((x & _LOWS7) + _LOWS7) | x | _LOWS7)


@_jit
def _flags(buf, offsets, first, second, third, ascii_windows, nfc):
    out = np.zeros(len(offsets) - 1, dtype=np.uint8)
    for d in range(len(offsets) - 1):
        flags = 0
        i, end = offsets[d], offsets[d + 1]
        p1 = 0  # the previous two characters
        p2 = 0
        newlines = 0
        recent = 0  # > 0 while a non-ASCII character is among the last three
        while i < end:
            if recent == 0 and not ascii_windows and i + 8 <= end:
                # eight plain ASCII characters at once: printable, no "&", no space after
                # a space or a line break (they only move the last two characters on)
                x = _read_le(buf, i, 8)
                spaces = _zero_bytes(x ^ _SPACES)
                if (
                    ((x - _ONES * np.uint64(32)) & ~x & _HIGHS)  # a byte below 32
                    | ((x + _ONES) | x) & _HIGHS  # a byte above 126
                    | _zero_bytes(x ^ _AMPS)
                    | (spaces & (spaces << np.uint64(8)))  # two spaces in a row
                ) == 0 and not ((p1 == 32 or p1 == 10) and (x & np.uint64(0xFF)) == 32):
                    newlines = 0
                    p2 = np.int64(x >> np.uint64(48) & np.uint64(0xFF))
                    p1 = np.int64(x >> np.uint64(56))
                    i += 8
                    continue
            b0 = buf[i]
            if b0 < 0x80:
                c = np.int64(b0)
                i += 1
                if c > 38:
                    newlines = 0
                    if c == 127:
                        flags |= 1
                        continue  # a C0 control too
                elif c == 32:
                    newlines = 0
                    if p1 == 32 or p1 == 10:
                        flags |= 2
                elif c == 10:
                    newlines += 1
                    if p1 == 32 or newlines >= 3:
                        flags |= 2
                else:
                    newlines = 0
                    if c == 38:
                        flags |= 4
                    elif c < 32:
                        flags |= 17 if c == 0x1B else 1
                        if c != 9 and c != 13:
                            continue  # ftfy reads the text without C0 controls
                if recent == 0 and not ascii_windows:
                    p2 = p1
                    p1 = c
                    continue  # three ASCII characters in a row: no sequence here
                recent -= 1
            else:
                c, width = _code_point(buf, i)
                i += width
                newlines = 0
                flags |= 8
                recent = 2
                if nfc[c if c < 0x10000 else 0x10000]:
                    flags |= 32
                if _is_hspace(c):
                    flags |= 1
                if 0x80 <= c <= 0x9F or 0xD800 <= c <= 0xDFFF:
                    flags |= 16
            # the sequences of one, two or three characters ending here
            row = c if c < 0x10000 else 0x10000
            r1 = p1 if p1 < 0x10000 else 0x10000
            r2 = p2 if p2 < 0x10000 else 0x10000
            if (
                (first[row] & _LEN1)
                or (first[r1] & second[row] & _LEN2)
                or (first[r2] & second[r1] & third[row] & _LEN3)
            ):
                flags |= 16
            p2 = p1
            p1 = c
        out[d] = flags
    return out


_GRAM_MUL = np.uint64(1_000_003)  # neardup.repair._seeds


@_jit
def _repeat_chains(seq, k, gap, max_seeds, window):
    """The seeds, runs and chains of :func:`neardup.repair._chains` on the word hashes
    ``seq`` (at least ``k`` of them): runs (first position, last position, offset) in
    the order the Python path sorts them, the matched words of the best chain ending
    with each run and the run before it there (-1: none), and for every position the
    number of occurrences of its k-gram."""
    m = len(seq) - k + 1
    gram = np.zeros(m, dtype=np.uint64)
    for i in range(m):
        acc = np.uint64(0)
        for j in range(k):
            acc = acc * _GRAM_MUL + seq[i + j]
        gram[i] = acc
    order = np.argsort(gram, kind="mergesort")  # equal grams grouped, positions ascending
    # groups of equal grams: order[bounds[g]:bounds[g + 1]]
    bounds = np.empty(m + 1, dtype=np.int64)
    groups = 0
    for t in range(m):
        if t == 0 or gram[order[t]] != gram[order[t - 1]]:
            bounds[groups] = t
            groups += 1
    bounds[groups] = m
    count = np.empty(m, dtype=np.int64)
    n_seeds = 0
    for g in range(groups):
        size = bounds[g + 1] - bounds[g]
        for t in range(bounds[g], bounds[g + 1]):
            count[order[t]] = size
        for t in range(1, size):
            n_seeds += min(t, max_seeds)
    # seeds: every position with each of its (at most max_seeds) nearest earlier
    # occurrences, as a key that sorts by offset, then position
    seeds = np.empty(n_seeds, dtype=np.int64)
    s = 0
    for g in range(groups):
        i = bounds[g]
        for t in range(i + 1, bounds[g + 1]):
            p = order[t]
            for lag in range(1, min(t - i, max_seeds) + 1):
                seeds[s] = (p - order[t - lag]) * m + p
                s += 1
    seeds.sort()
    # runs of consecutive positions at one offset (in order of offset, then position)
    r0 = np.empty(n_seeds, dtype=np.int64)
    r1 = np.empty(n_seeds, dtype=np.int64)
    rd = np.empty(n_seeds, dtype=np.int64)
    n_runs = 0
    for t in range(n_seeds):
        d, p = seeds[t] // m, seeds[t] % m
        if n_runs and rd[n_runs - 1] == d and r1[n_runs - 1] == p - 1:
            r1[n_runs - 1] = p
        else:
            r0[n_runs], r1[n_runs], rd[n_runs] = p, p, d
            n_runs += 1
    by = np.argsort(r0[:n_runs] * m + r1[:n_runs], kind="mergesort")  # then offset
    r0, r1, rd = r0[by], r1[by], rd[by]
    best = np.empty(n_runs, dtype=np.int64)
    back = np.empty(n_runs, dtype=np.int64)
    for i in range(n_runs):
        p0, p1, d = r0[i], r1[i], rd[i]
        length = p1 - p0 + k
        score, prev = length, -1
        for j in range(i - 1, max(-1, i - window), -1):
            q_end = r1[j] + k  # exclusive word end of run j
            if q_end < p0 - gap or abs(d - rd[j]) > gap or p1 + k <= q_end:
                continue
            overlap = max(0, q_end - p0)
            if best[j] + length - overlap > score:
                score, prev = best[j] + length - overlap, j
        best[i] = score
        back[i] = prev
    return r0, r1, rd, best, back, count


@_jit
def _collapse(buf):
    """Line breaks unified (CR LF, CR), each run of horizontal whitespace one space,
    no space next to a line break, at most two line breaks in a row (the ends are
    left to ``str.strip``)."""
    out = np.empty(len(buf), dtype=np.uint8)
    n = 0
    space = False  # a run of horizontal whitespace not written yet
    breaks = 0  # line breaks in a row
    i = 0
    end = len(buf)
    while i < end:
        b = buf[i]
        width = 0  # bytes of a horizontal whitespace character here
        if b == 32 or b == 9:
            width = 1
        elif b == 0xC2 and i + 1 < end and buf[i + 1] == 0xA0:
            width = 2
        elif b >= 0xE1 and b <= 0xE3 and i + 2 < end:
            b1, b2 = buf[i + 1], buf[i + 2]
            if (
                (b == 0xE1 and b1 == 0x9A and b2 == 0x80)  # U+1680
                or (b == 0xE2 and b1 == 0x80 and (b2 <= 0x8A or b2 == 0xAF))  # U+2000-200A, 202F
                or (b == 0xE2 and b1 == 0x81 and b2 == 0x9F)  # U+205F
                or (b == 0xE3 and b1 == 0x80 and b2 == 0x80)  # U+3000
            ):
                width = 3
        if width:
            space = True
            i += width
            continue
        if b == 10 or b == 13:
            i += 2 if b == 13 and i + 1 < end and buf[i + 1] == 10 else 1
            space = False  # no space before a line break
            breaks += 1
            if breaks <= 2:
                out[n] = 10
                n += 1
            continue
        if space and breaks == 0:  # no space after a line break either
            out[n] = 32
            n += 1
        space = False
        breaks = 0
        out[n] = b
        n += 1
        i += 1
    return out[:n]


@_jit
def _tokens(buf, offsets, kind, fold_off, fold):
    docs = len(offsets) - 1
    out = np.empty(3 * len(buf) + docs, dtype=np.uint8)  # folding can grow a text
    out_off = np.zeros(docs + 1, dtype=np.int64)
    ok = np.ones(docs, dtype=np.bool_)
    # an ASCII character that is a letter or digit (its folded byte here) or a separator
    # (0) other than the line break: handled without a branch on which it is
    letters = np.zeros(128, dtype=np.uint8)
    plain = np.zeros(128, dtype=np.bool_)
    for c in range(128):
        if kind[c] == 1 and fold_off[c + 1] - fold_off[c] == 1:
            letters[c] = fold[fold_off[c]]
            plain[c] = True
        elif kind[c] == 0 and c != 10:
            plain[c] = True
    n = 0
    for d in range(docs):
        start = n
        inside = False
        i, end = offsets[d], offsets[d + 1]
        while i < end:
            b0 = buf[i]
            if b0 < 0x80 and plain[b0]:
                f = letters[b0]
                letter = f != 0
                out[n] = f if letter else np.uint8(32)  # a space ends the word before
                n += 1 if letter or inside else 0
                inside = letter
                i += 1
                continue
            if b0 < 0x80:
                c = np.int64(b0)
                i += 1
                if kind[c] == 1:  # an ASCII letter or digit: one byte, folded
                    out[n] = fold[fold_off[c]]
                    n += 1
                    inside = True
                    continue
            elif b0 < 0xF0:
                c, width = _code_point(buf, i)
                i += width
            else:  # beyond the BMP: cut in Python
                ok[d] = False
                n = start
                break
            k = kind[c]
            if k == 0 or k == 2:
                if inside:
                    out[n] = 32
                    n += 1
                    inside = False
                if c == 10:
                    out[n] = 10
                    n += 1
                if k == 0:
                    continue
            for j in range(fold_off[c], fold_off[c + 1]):
                out[n] = fold[j]
                n += 1
            if k == 2:
                out[n] = 32
                n += 1
            else:
                inside = True
        if inside and ok[d]:
            out[n] = 32
            n += 1
        out_off[d + 1] = n
    return out[:n], out_off, ok


@_jit
def _token_spans(buf, kind, fold_off, fold):
    """The words of one UTF-8 text as :func:`neardup.shingles.words_with_spans` cuts
    them: their case-folded bytes joined by single spaces, their start and end offsets
    in characters, their XXH64; and False for a text beyond the BMP (cut in Python)."""
    out = np.empty(3 * len(buf) + 1, dtype=np.uint8)  # folding can grow a text
    starts = np.empty(len(buf) + 1, dtype=np.int64)
    ends = np.empty(len(buf) + 1, dtype=np.int64)
    first = np.empty(len(buf) + 1, dtype=np.int64)  # each word's first byte in ``out``
    n = 0  # bytes written
    w = 0  # words
    ci = 0  # characters read
    inside = False
    i = 0
    while i < len(buf):
        b0 = buf[i]
        if b0 < 0x80:
            c = np.int64(b0)
            i += 1
        elif b0 < 0xF0:
            c, width = _code_point(buf, i)
            i += width
        else:
            return out[:0], starts[:0], ends[:0], np.zeros(0, dtype=np.uint64), False
        k = kind[c]
        if k != 1 and inside:  # a word ends
            ends[w] = ci
            w += 1
            inside = False
        if k != 0:
            if not inside:  # a word starts
                if w:
                    out[n] = 32
                    n += 1
                starts[w] = ci
                first[w] = n
                inside = k == 1
                if k == 2:  # a character of a script without spaces: a word of its own
                    ends[w] = ci + 1
                    w += 1
            for j in range(fold_off[c], fold_off[c + 1]):
                out[n] = fold[j]
                n += 1
        ci += 1
    if inside:
        ends[w] = ci
        w += 1
    hashes = np.empty(w, dtype=np.uint64)
    for t in range(w):
        stop = first[t + 1] - 1 if t + 1 < w else n
        hashes[t] = xxh64(out, first[t], stop)
    return out[:n], starts[:w], ends[:w], hashes, True


@_jit
def _union_find(n, a, b):
    parent = np.arange(n)
    for i in range(len(a)):
        x, y = a[i], b[i]
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        while parent[y] != y:
            parent[y] = parent[parent[y]]
            y = parent[y]
        if x < y:  # the smaller root wins, so every root is its set's smallest node
            parent[y] = x
        elif y < x:
            parent[x] = y
    for x in range(n):
        parent[x] = parent[parent[x]]  # roots are smaller: one sweep in order
    return parent


@_jit
def _shared_counts(flat, start, size, ia, ib):
    """For each pair (ia[i], ib[i]) of the sorted unique runs
    flat[start[j]:start[j] + size[j]], the number of values the two runs share (a merge
    of the two)."""
    out = np.zeros(len(ia), dtype=np.int64)
    for i in range(len(ia)):
        p, p_end = start[ia[i]], start[ia[i]] + size[ia[i]]
        q, q_end = start[ib[i]], start[ib[i]] + size[ib[i]]
        n = 0
        while p < p_end and q < q_end:
            x, y = flat[p], flat[q]
            if x == y:
                n += 1
                p += 1
                q += 1
            elif x < y:
                p += 1
            else:
                q += 1
        out[i] = n
    return out


@_jit
def _equal_values(rows, a, b):
    """How many places of rows a[i] and b[i] hold the same value, for each i."""
    out = np.zeros(len(a), dtype=np.int64)
    width = rows.shape[1]
    for i in range(len(a)):
        x, y = rows[a[i]], rows[b[i]]
        same = 0
        for j in range(width):
            same += 1 if x[j] == y[j] else 0
        out[i] = same
    return out
