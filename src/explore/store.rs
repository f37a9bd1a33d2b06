//! The visited set: every distinct state, stored compactly, with an id.
//!
//! States are vectors of 64-bit values, but nearly all values are small
//! (program counters, register and variable values, buffer lengths), so each
//! state is stored compactly, back to back in an arena: a format byte, then
//! either two values per byte (zigzag nibbles, when every value lies in
//! -8..8, as in most store-buffer states) or the zigzag LEB128 encoding of
//! each value (one byte for values in -64..64). A hash table of ids finds a
//! state by its bytes. The format follows from the values, and equal states
//! have equal encodings, so the encoding is canonical and lookups compare
//! bytes.
//!
//! Invariant: in each [`Part`], `ends[i]` is the end of its `i`-th state's
//! bytes (its start is `ends[i - 1]`, or 0), that state's id is `first + i`,
//! and the table holds each of its ids exactly once with a 32-bit tag of the
//! hash of its bytes, from which the table's own hash is computed: growing the
//! table never reads the states again, and a lookup compares bytes only when
//! the tags agree. The recent part's ids follow the frozen part's.
//!
//! A layered store serves a search whose successors never lie in an earlier
//! layer (a graded state graph, [`crate::model::machine::Machine::graded`]):
//! a state can only be found again among the recent ones, so freezing keeps
//! the recent states' bytes and drops their table entries (12 to 18 bytes a
//! state, and the work of moving them). Debug builds keep the entries and
//! check that the frozen part never holds a state looked up.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use crate::ir::Val;

/// Index of a state, in insertion order; 0 is the first state inserted.
pub(crate) type StateId = u32;

/// Distinct states, stored once each, in two parts: the frozen states, which
/// only grow between layers of the search and can be read by many threads,
/// and the recent ones, stored while a layer is merged. Ids run on from the
/// frozen part into the recent one; [`StateStore::freeze`] moves the recent
/// states into the frozen part.
#[derive(Default)]
pub(crate) struct StateStore {
    frozen: Part,
    recent: Part,
    /// Whether the store is layered (see the module doc).
    layered: bool,
}

/// Some states: their encodings back to back, and a table of their ids.
#[derive(Default)]
pub(crate) struct Part {
    /// The id of this part's first state.
    first: StateId,
    bytes: Vec<u8>,
    ends: Vec<usize>,
    table: HashTable<(StateId, u32)>,
    /// Whether this is a layered store's frozen part, whose table is empty
    /// outside debug builds.
    layered: bool,
}

impl std::fmt::Debug for StateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateStore")
            .field("states", &self.len())
            .field("bytes", &self.encoded_bytes())
            .finish()
    }
}

impl StateStore {
    /// Number of states.
    pub fn len(&self) -> usize {
        self.frozen.ends.len() + self.recent.ends.len()
    }

    /// An empty layered store (see the module doc).
    pub fn layered() -> Self {
        StateStore {
            frozen: Part {
                layered: true,
                ..Part::default()
            },
            recent: Part::default(),
            layered: true,
        }
    }

    /// Whether the store is layered (see the module doc).
    pub fn is_layered(&self) -> bool {
        self.layered
    }

    /// Bytes used by the encoded states.
    pub fn encoded_bytes(&self) -> usize {
        self.frozen.bytes.len() + self.recent.bytes.len()
    }

    fn part(&self, id: StateId) -> &Part {
        if id < self.recent.first {
            &self.frozen
        } else {
            &self.recent
        }
    }

    /// Decodes state `id` into `out` (replacing its contents).
    pub fn get_into(&self, id: StateId, out: &mut Vec<Val>) {
        self.part(id).get_into(id, out);
    }

    /// State `id`, decoded.
    pub fn get(&self, id: StateId) -> Vec<Val> {
        let mut out = Vec::new();
        self.get_into(id, &mut out);
        out
    }

    /// The hash [`Part::find`] and [`Part::insert_encoded`] take for an
    /// encoded state.
    pub fn hash(encoded: &[u8]) -> u64 {
        FxBuildHasher.hash_one(encoded)
    }

    /// The id of `state`, if stored.
    #[cfg(test)]
    pub fn id_of(&self, state: &[Val]) -> Option<StateId> {
        let (hash, key) = Self::key(state);
        self.find(hash, &key)
    }

    /// Stores `state` if it is new; returns its id and whether it was new.
    pub fn insert(&mut self, state: &[Val]) -> (StateId, bool) {
        let (hash, key) = Self::key(state);
        match self.find(hash, &key) {
            Some(id) => (id, false),
            None => (self.recent.insert_encoded(hash, &key), true),
        }
    }

    /// `state`'s hash and encoding.
    fn key(state: &[Val]) -> (u64, Vec<u8>) {
        let mut key = Vec::new();
        encode(state, &mut key);
        (Self::hash(&key), key)
    }

    fn find(&self, hash: u64, key: &[u8]) -> Option<StateId> {
        self.frozen
            .find(hash, key)
            .or_else(|| self.recent.find(hash, key))
    }

    /// The frozen states, to read, and the recent ones, to add to.
    pub fn parts(&mut self) -> (&Part, &mut Part) {
        (&self.frozen, &mut self.recent)
    }

    /// Moves the recent states into the frozen part.
    pub fn freeze(&mut self) {
        let (frozen, recent) = (&mut self.frozen, &mut self.recent);
        let offset = frozen.bytes.len();
        frozen.bytes.append(&mut recent.bytes);
        frozen
            .ends
            .extend(recent.ends.drain(..).map(|end| end + offset));
        if self.layered && !cfg!(debug_assertions) {
            recent.table.clear();
        } else {
            for (id, tag) in recent.table.drain() {
                frozen
                    .table
                    .insert_unique(spread(tag), (id, tag), |&(_, t)| spread(t));
            }
        }
        recent.first = frozen.ends.len() as StateId;
    }
}

impl Part {
    /// Decodes state `id` (one of this part's) into `out`.
    pub fn get_into(&self, id: StateId, out: &mut Vec<Val>) {
        out.clear();
        decode(self.encoded(id), out);
    }

    fn encoded(&self, id: StateId) -> &[u8] {
        let i = (id - self.first) as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    /// The id of the state encoded as `encoded` (by [`encode`]) with hash
    /// `hash`, if this part holds it.
    pub fn find(&self, hash: u64, encoded: &[u8]) -> Option<StateId> {
        let tag = tag(hash);
        let found = self
            .table
            .find(spread(tag), |&(id, t)| {
                t == tag && self.encoded(id) == encoded
            })
            .map(|&(id, _)| id);
        debug_assert!(
            !self.layered || found.is_none(),
            "invariant: a layered store never finds a state of an earlier layer"
        );
        found
    }

    /// Stores the state encoded as `encoded` with hash `hash`, which no part
    /// holds, and returns its id.
    pub fn insert_encoded(&mut self, hash: u64, encoded: &[u8]) -> StateId {
        let id = self.first + self.ends.len() as StateId;
        self.bytes.extend_from_slice(encoded);
        self.ends.push(self.bytes.len());
        let tag = tag(hash);
        self.table
            .insert_unique(spread(tag), (id, tag), |&(_, t)| spread(t));
        id
    }

    /// Number of states stored here and before: the id the next one gets.
    pub fn next_id(&self) -> usize {
        self.first as usize + self.ends.len()
    }
}

/// The 32 bits of a state's hash the table keeps.
fn tag(hash: u64) -> u32 {
    (hash >> 32) as u32 ^ hash as u32
}

/// The table's 64-bit hash of a tag: a multiplication spreads the tag's bits
/// over the high bits (hashbrown's control byte) and the low ones (its index).
fn spread(tag: u32) -> u64 {
    u64::from(tag).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The format byte of an encoding whose values are zigzag LEB128.
const LEB128: u8 = 0;
/// The format byte of an encoding with two values per byte (the first in
/// the low nibble), an even number of them.
const NIBBLES_EVEN: u8 = 1;
/// The same, an odd number of them: the last byte's high nibble is 0.
const NIBBLES_ODD: u8 = 2;

/// The zigzag encoding of `v`: small magnitudes, either sign, give small
/// numbers (0, -1, 1, -2 ... give 0, 1, 2, 3 ...).
fn zigzag(v: Val) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// The value whose zigzag encoding is `z`.
fn unzigzag(z: u64) -> Val {
    ((z >> 1) as Val) ^ -((z & 1) as Val)
}

/// Appends the encoding of `values` to `out`: a format byte, then two
/// values per byte if all lie in -8..8, else their zigzag LEB128 encoding.
pub(crate) fn encode(values: &[Val], out: &mut Vec<u8>) {
    // One pass, without a branch per value, tells the largest zigzag
    // encoding's bits; another writes the bytes.
    let bits = values.iter().fold(0u64, |any, &v| any | zigzag(v));
    if bits < 16 {
        out.push(if values.len().is_multiple_of(2) {
            NIBBLES_EVEN
        } else {
            NIBBLES_ODD
        });
        let (pairs, last) = values.as_chunks::<2>();
        out.extend(
            pairs
                .iter()
                .map(|&[a, b]| (zigzag(a) | zigzag(b) << 4) as u8),
        );
        out.extend(last.iter().map(|&v| zigzag(v) as u8));
        return;
    }
    out.push(LEB128);
    // Values in -64..64 take one byte each.
    if bits < 128 {
        let start = out.len();
        out.resize(start + values.len(), 0);
        for (byte, &v) in out[start..].iter_mut().zip(values) {
            *byte = zigzag(v) as u8;
        }
        return;
    }
    for &v in values {
        crate::varint::push(out, zigzag(v));
    }
}

/// Appends the values encoded in `bytes` (by [`encode`]) to `out`.
fn decode(bytes: &[u8], out: &mut Vec<Val>) {
    let (&format, bytes) = bytes
        .split_first()
        .expect("invariant: an encoding starts with its format byte");
    if format != LEB128 {
        let count = 2 * bytes.len() - usize::from(format == NIBBLES_ODD);
        let start = out.len();
        out.resize(start + count, 0);
        let (pairs, last) = out[start..].as_chunks_mut::<2>();
        for (pair, &b) in pairs.iter_mut().zip(bytes) {
            *pair = [b & 0xf, b >> 4].map(|z| unzigzag(u64::from(z)));
        }
        if let ([v], Some(&b)) = (last, bytes.last()) {
            *v = unzigzag(u64::from(b));
        }
        return;
    }
    // One byte per value, the common case (see `encode`).
    if bytes.iter().fold(0, |any, &b| any | b) < 0x80 {
        let start = out.len();
        out.resize(start + bytes.len(), 0);
        for (v, &b) in out[start..].iter_mut().zip(bytes) {
            *v = unzigzag(u64::from(b));
        }
        return;
    }
    let mut z = 0u64;
    let mut shift = 0;
    for &b in bytes {
        z |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            out.push(unzigzag(z));
            z = 0;
            shift = 0;
        } else {
            shift += 7;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_every_kind_of_value() {
        let values = vec![
            0,
            1,
            -1,
            63,
            64,
            -64,
            -65,
            300,
            i64::MAX,
            i64::MIN,
            12345678901,
        ];
        let mut bytes = Vec::new();
        encode(&values, &mut bytes);
        let mut back = Vec::new();
        decode(&bytes, &mut back);
        assert_eq!(back, values);
        let mut small = Vec::new();
        encode(&[0, 1, -1, 63, -64], &mut small);
        assert_eq!(small.len(), 1 + 5, "values in -64..64 take one byte");
        let mut back = Vec::new();
        decode(&small, &mut back);
        assert_eq!(back, vec![0, 1, -1, 63, -64]);
        for past in [64, -65] {
            let mut bytes = Vec::new();
            encode(&[1, past], &mut bytes);
            assert_eq!(bytes.len(), 1 + 3, "{past} takes two bytes");
            let mut back = Vec::new();
            decode(&bytes, &mut back);
            assert_eq!(back, vec![1, past]);
        }
    }

    #[test]
    fn values_in_minus_8_to_8_take_half_a_byte() {
        for values in [
            vec![],
            vec![0],
            vec![7, -8],
            vec![0, 1, -1, 7, -8],
            vec![3, 0, 0, 2, -5, 6],
        ] {
            let mut bytes = Vec::new();
            encode(&values, &mut bytes);
            assert_eq!(bytes.len(), 1 + values.len().div_ceil(2), "{values:?}");
            let mut back = vec![42];
            decode(&bytes, &mut back);
            assert_eq!(back[1..], values[..], "decoding appends");
        }
        // One value past the range puts the whole state in bytes, and the
        // two encodings differ: equal states have equal bytes, unequal ones not.
        for past in [8, -9] {
            let mut bytes = Vec::new();
            encode(&[1, past], &mut bytes);
            assert_eq!(bytes.len(), 1 + 2, "{past} takes a byte");
            let mut back = Vec::new();
            decode(&bytes, &mut back);
            assert_eq!(back, vec![1, past]);
        }
        let (mut odd, mut even) = (Vec::new(), Vec::new());
        encode(&[1], &mut odd);
        encode(&[1, 0], &mut even);
        assert_ne!(odd, even, "a trailing 0 is a value, not padding");
    }

    #[test]
    fn states_are_stored_once_and_found_by_value() {
        let mut store = StateStore::default();
        assert_eq!(store.insert(&[1, 2, 3]), (0, true));
        assert_eq!(store.insert(&[1, 2]), (1, true));
        assert_eq!(store.insert(&[1, 2, 3]), (0, false));
        assert_eq!(store.id_of(&[1, 2]), Some(1));
        assert_eq!(store.id_of(&[2, 1]), None);
        assert_eq!(store.get(0), vec![1, 2, 3]);
        for i in 0..10_000 {
            store.insert(&[i, -i, i * 1000]);
        }
        assert_eq!(store.len(), 10_002);
        assert_eq!(store.id_of(&[9999, -9999, 9_999_000]), Some(10_001));
    }
}
