"""Merkle tree hashing per RFC 9162 §2.1 (Certificate Transparency v2). No Django imports.

- leaf hash = SHA-256(0x00 ‖ leaf bytes), node hash = SHA-256(0x01 ‖ left ‖ right), the empty
  tree's root = SHA-256("") (§2.1.1);
- :class:`StreamingRoot` folds leaf hashes one at a time (``add``) or in concatenated runs
  (``extend``, level by level: the close's fast path) keeping only one hash per set bit of the
  count (≤ 64), so memory does not grow with the tree size;
- :func:`inclusion_ranges` names the subtrees whose hashes form the audit path PATH(m, D[n])
  (§2.1.3.1), so a proof is computed in one streaming pass (:func:`inclusion_proof`), or from
  the hashes of aligned leaf blocks stored at close plus one block's leaves
  (:func:`inclusion_proof_from_blocks`);
- :func:`verify_inclusion` is the verifier of §2.1.3.2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

HASH_SIZE = 32  # SHA-256: every leaf hash, node hash, path element and root
EMPTY_ROOT = hashlib.sha256(b"").digest()
RUN = 1 << 10  # leaves folded level by level at a time by StreamingRoot.extend (32 KB of hashes)
_sha256 = hashlib.sha256


def hash_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def hash_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class StreamingRoot:
    """Merkle Tree Hash of leaf hashes added in order (RFC 9162 §2.1.1), O(log n) memory.

    The stack holds the roots of the complete subtrees given by the binary digits of the count,
    largest first; the final root folds them right to left, which is exactly MTH's split at the
    largest power of two below n.

    With ``block`` (a power of two) it also keeps, at no extra hashing, the MTH of every aligned
    ``block``-leaf block as it completes (``blocks``; one hash per ``block`` leaves), for
    :func:`block_hashes` and proofs by :func:`range_hash`.
    """

    def __init__(self, block: int = 0) -> None:
        if block and block & (block - 1):
            raise ValueError("block must be a power of two")
        self.size = 0
        self.block = block
        self.blocks: list[bytes] = []
        self._stack: list[tuple[int, bytes]] = []  # (subtree size, hash)

    def add(self, leaf_hash: bytes) -> None:
        self._push(leaf_hash, 1)

    def _push(self, node: bytes, width: int) -> None:
        """Push the MTH ``node`` of the next ``width`` leaves (a power of two dividing ``size``, so
        the subtree is aligned and every subtree on the stack is at least as wide)."""
        block, stack = self.block, self._stack
        self.size += width
        if width == block:
            self.blocks.append(node)
        while stack and stack[-1][0] == width:
            _, left = stack.pop()
            node, width = _sha256(b"\x01" + left + node).digest(), width * 2
            if width == block:
                self.blocks.append(node)
        stack.append((width, node))

    def push_subtree(self, node: bytes, width: int) -> None:
        """Add the MTH ``node`` of the next ``width`` leaves, computed elsewhere (a block hash of a
        parallel fold, :mod:`clearing.services.fold`): the same state as adding those leaves.
        Raises ``ValueError`` unless ``width`` is a power of two dividing the current size (the
        subtree must be aligned in the tree)."""
        if width < 1 or width & (width - 1) or self.size % width:
            raise ValueError(f"a subtree of {width} leaves is not aligned at leaf {self.size}")
        self._push(node, width)

    def extend(self, hashes: bytes) -> None:
        """Add the leaf hashes concatenated in ``hashes`` (32 bytes each, in order): the same
        state as :meth:`add` of each, faster. Aligned runs of up to ``RUN`` leaves are folded level
        by level (one slice and one SHA-256 per node); each run's MTH is pushed as one subtree, and
        the block hashes met on the way are kept. Raises ``ValueError`` unless ``len(hashes)`` is a
        multiple of 32."""
        if len(hashes) % 32:
            raise ValueError("leaf hashes are 32 bytes each")
        if not isinstance(hashes, bytes):
            hashes = bytes(hashes)
        block, sha = self.block, _sha256
        pos, end = 0, len(hashes)
        while pos < end:
            size = self.size
            width = size & -size if size else RUN  # the widest aligned run that may start here
            width = min(width, RUN)
            while width * 32 > end - pos:
                width >>= 1
            level = hashes[pos : pos + width * 32]
            pos += width * 32
            w = 1
            while w < width:
                if w == block:
                    self.blocks += [level[o : o + 32] for o in range(0, len(level), 32)]
                level = b"".join(
                    [sha(b"\x01" + level[o : o + 64]).digest() for o in range(0, len(level), 64)]
                )
                w *= 2
            self._push(level, width)

    def block_hashes(self) -> list[bytes]:
        """MTH of each aligned block of ``block`` leaves in order, the last one possibly partial
        (the MTH of its fewer leaves). Empty for an empty tree or without ``block``."""
        if not self.block:
            return []
        tail = [h for w, h in self._stack if w < self.block]
        if not tail:
            return list(self.blocks)
        node = tail[-1]
        for left in reversed(tail[:-1]):
            node = hash_node(left, node)
        return [*self.blocks, node]

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        node = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            node = hash_node(left, node)
        return node


def root_of(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH over an iterable of leaf hashes (streamed)."""
    acc = StreamingRoot()
    for h in leaf_hashes:
        acc.add(h)
    return acc.root()


def _largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The half-open leaf ranges [start, end) whose MTHs are PATH(index, D[size]), in path order
    (the sibling nearest the leaf first). Raises ``ValueError`` when ``index`` is outside the tree."""
    if not 0 <= index < size:
        raise ValueError("leaf index outside the tree")
    ranges: list[tuple[int, int]] = []
    start, end, m = 0, size, index
    while end - start > 1:
        k = _largest_power_of_two_below(end - start)
        if m < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start, m = start + k, m - k
    ranges.reverse()
    return ranges


def range_hash(
    start: int, end: int, *, size: int, block: int, blocks: list[bytes], leaves: list[bytes], base: int
) -> bytes:
    """MTH(D[start:end]) of a subtree of the RFC 9162 tree of ``size`` leaves (a range PATH or MTH
    recursion produces), from ``blocks`` (:meth:`StreamingRoot.block_hashes` with ``block``) and
    the leaf hashes ``leaves`` = D[base : base + len(leaves)] of one block. Every subtree wider
    than ``block`` splits at block boundaries, so an audit path needs only the stored block hashes
    and the leaves of the proved leaf's own block: O(size / block + block) work. Raises
    ``ValueError`` when a range needs leaves of another block."""
    width = end - start
    if start % block == 0 and (width == block or (end == size and width < block)):
        return blocks[start // block]
    if width <= block:
        if not (base <= start and end <= base + len(leaves)):
            raise ValueError("the range needs leaves of another block")
        return root_of(leaves[start - base : end - base])
    k = _largest_power_of_two_below(width)
    left = range_hash(start, start + k, size=size, block=block, blocks=blocks, leaves=leaves, base=base)
    right = range_hash(start + k, end, size=size, block=block, blocks=blocks, leaves=leaves, base=base)
    return hash_node(left, right)


def inclusion_proof_from_blocks(
    index: int, size: int, *, block: int, blocks: list[bytes], leaves: list[bytes]
) -> list[bytes]:
    """Audit path PATH(index, D[size]) from the stored block hashes and the leaf hashes of the
    leaf's own block (``leaves`` = D[b·block : min((b+1)·block, size)], b = index // block)."""
    base = index // block * block
    if len(leaves) != min(base + block, size) - base:
        raise ValueError("leaves must be the whole block of the leaf")
    return [
        range_hash(a, b, size=size, block=block, blocks=blocks, leaves=leaves, base=base)
        for a, b in inclusion_ranges(index, size)
    ]


def inclusion_proof(leaf_hashes: Iterable[bytes], index: int, size: int) -> list[bytes]:
    """Audit path for leaf ``index`` of a tree of ``size`` leaves, in one pass over the leaf hashes
    (given in tree order); memory O(log size)."""
    ranges = inclusion_ranges(index, size)
    accs = [StreamingRoot() for _ in ranges]
    order = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
    pos, j = 0, 0
    for h in leaf_hashes:
        while j < len(order) and pos >= ranges[order[j]][1]:
            j += 1
        if j < len(order) and ranges[order[j]][0] <= pos < ranges[order[j]][1]:
            accs[order[j]].add(h)
        pos += 1
    if pos != size:
        raise ValueError(f"expected {size} leaves, got {pos}")
    return [a.root() for a in accs]


def verify_inclusion(leaf_hash: bytes, index: int, size: int, path: list[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: verify an inclusion proof. False unless the leaf hash, the root and every
    path element are 32 bytes: an empty leaf hash and empty root of a one-leaf tree would otherwise
    "verify" (transparency-dev/merkle's ``empty-root-and-leaf`` vector)."""
    if index >= size or index < 0:
        return False
    if len(leaf_hash) != HASH_SIZE or len(root) != HASH_SIZE or any(len(p) != HASH_SIZE for p in path):
        return False
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = hash_node(p, r)
            if not fn & 1:
                while True:
                    fn >>= 1
                    sn >>= 1
                    if fn & 1 or fn == 0:
                        break
        else:
            r = hash_node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root
