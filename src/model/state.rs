//! The machine state as one flat vector of values, so states hash and compare as
//! plain slices and a visited set stores one allocation per state.
//!
//! Layout, for `T` threads, `L` variables, `F` fixed words and `S` segments:
//!
//! ```text
//! [ pc_0 .. pc_{T-1} | registers of thread 0 | ... | thread T-1 | mem_0 .. mem_{L-1}
//!   | F fixed words (race detection, then the memory model's own)
//!   | n_0 .. n_{S-1} | entries of segment 0 | ... | entries of segment S-1 ]
//! ```
//!
//! A segment is a variable-length list of `n_b` entries of `width` values
//! each, oldest first. The lengths come first, together, so a segment's length
//! is one read and finding its entries sums the lengths before it. The
//! store-buffer models keep their buffers in segments; the `go` model keeps
//! the history of writes of each variable in one.
//!
//! Invariant: `0 <= pc_t <= code length of thread t`; segment lengths are
//! non-negative and the vector ends exactly after the last segment's entries.

use std::ops::Range;

use smallvec::SmallVec;

use crate::ir::{Loc, Program, ThreadId, Val};

/// Offsets into the flat state for one program and one memory model.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    threads: usize,
    locs: usize,
    /// Start of each thread's registers; `reg_start[threads]` is the start of memory.
    reg_start: Vec<usize>,
    /// Number of fixed words after memory.
    fixed: usize,
    /// Number of segments.
    segments: usize,
    /// Values per segment entry.
    width: usize,
}

impl Layout {
    pub fn new(program: &Program, fixed: usize, segments: usize, width: usize) -> Self {
        let threads = program.threads.len();
        let mut reg_start = Vec::with_capacity(threads + 1);
        let mut next = threads;
        for thread in &program.threads {
            reg_start.push(next);
            next += thread.regs.len();
        }
        reg_start.push(next);
        Layout {
            threads,
            locs: program.locs.len(),
            reg_start,
            fixed,
            segments,
            width,
        }
    }

    /// The initial state: pcs at 0, registers and memory at their initial values,
    /// fixed words 0, segments empty.
    pub fn initial(&self, program: &Program) -> Vec<Val> {
        let mut s = vec![0; self.threads];
        for thread in &program.threads {
            s.extend(thread.regs.iter().map(|r| r.init));
        }
        s.extend(program.locs.iter().map(|l| l.init));
        s.extend(std::iter::repeat_n(0, self.fixed + self.segments));
        s
    }

    fn mem_start(&self) -> usize {
        self.reg_start[self.threads]
    }

    /// Where the fixed words are.
    pub fn fixed(&self) -> Range<usize> {
        let start = self.mem_start() + self.locs;
        start..start + self.fixed
    }

    fn segments_start(&self) -> usize {
        self.fixed().end
    }

    pub fn pc(&self, s: &[Val], t: ThreadId) -> usize {
        s[t.index()] as usize
    }

    pub fn set_pc(&self, s: &mut [Val], t: ThreadId, pc: usize) {
        s[t.index()] = pc as Val;
    }

    pub fn regs<'s>(&self, s: &'s [Val], t: ThreadId) -> &'s [Val] {
        &s[self.reg_start[t.index()]..self.reg_start[t.index() + 1]]
    }

    pub fn regs_mut<'s>(&self, s: &'s mut [Val], t: ThreadId) -> &'s mut [Val] {
        &mut s[self.reg_start[t.index()]..self.reg_start[t.index() + 1]]
    }

    pub fn mem(&self, s: &[Val], l: Loc) -> Val {
        s[self.mem_start() + l.index()]
    }

    pub fn set_mem(&self, s: &mut [Val], l: Loc, v: Val) {
        s[self.mem_start() + l.index()] = v;
    }

    /// Number of segments.
    pub fn segment_count(&self) -> usize {
        self.segments
    }

    /// Offset of segment `b`'s length word.
    fn length_offset(&self, b: usize) -> usize {
        self.segments_start() + b
    }

    /// Offset of segment `b`'s first entry.
    fn entries_offset(&self, s: &[Val], b: usize) -> usize {
        let lengths = self.segments_start();
        let before: Val = s[lengths..lengths + b].iter().sum();
        lengths + self.segments + before as usize * self.width
    }

    /// Number of entries in segment `b`.
    pub fn segment_len(&self, s: &[Val], b: usize) -> usize {
        s[self.length_offset(b)] as usize
    }

    /// Where the entries of segment `b` are in the state.
    pub fn segment_range(&self, s: &[Val], b: usize) -> Range<usize> {
        let at = self.entries_offset(s, b);
        at..at + self.segment_len(s, b) * self.width
    }

    /// The entries of segment `b`, flattened, oldest first.
    pub fn segment<'s>(&self, s: &'s [Val], b: usize) -> &'s [Val] {
        &s[self.segment_range(s, b)]
    }

    /// Where the entries of every segment are: back to back, to the end.
    pub fn entries(&self, s: &[Val]) -> Range<usize> {
        self.segments_start() + self.segments..s.len()
    }

    /// Appends an entry (`width` values) to segment `b`.
    pub fn push(&self, s: &mut Vec<Val>, b: usize, entry: &[Val]) {
        debug_assert_eq!(
            entry.len(),
            self.width,
            "invariant: entries have the segment width"
        );
        let end = self.segment_range(s, b).end;
        s[self.length_offset(b)] += 1;
        let old_len = s.len();
        s.resize(old_len + entry.len(), 0);
        s.copy_within(end..old_len, end + entry.len());
        s[end..end + entry.len()].copy_from_slice(entry);
    }

    /// Removes entry `index` of segment `b`.
    pub fn discard(&self, s: &mut Vec<Val>, b: usize, index: usize) {
        debug_assert!(
            index < self.segment_len(s, b),
            "invariant: the entry exists"
        );
        let start = self.entries_offset(s, b) + index * self.width;
        s[self.length_offset(b)] -= 1;
        s.drain(start..start + self.width);
    }

    /// The lengths of segments `range`.
    pub fn segment_lengths<'s>(&self, s: &'s [Val], range: Range<usize>) -> &'s [Val] {
        let lengths = self.segments_start();
        &s[lengths + range.start..lengths + range.end]
    }

    /// Where the entries of thread `t`'s segments are in `s`, thread `t`
    /// owning segments `t * per_thread ..`.
    pub fn thread_entries_range(&self, s: &[Val], t: usize, per_thread: usize) -> Range<usize> {
        self.entries_offset(s, t * per_thread)..self.entries_offset(s, (t + 1) * per_thread)
    }

    /// Where each thread's segment entries start in `s`, thread `t` owning
    /// segments `t * per_thread ..`, and where the last one's end.
    pub fn thread_entries(&self, s: &[Val], per_thread: usize) -> SmallVec<[usize; 17]> {
        let mut at = self.segments_start() + self.segments;
        let mut starts = SmallVec::with_capacity(self.threads + 1);
        starts.push(at);
        for lengths in self
            .segment_lengths(s, 0..self.segments)
            .chunks(per_thread.max(1))
        {
            at += lengths.iter().sum::<Val>() as usize * self.width;
            starts.push(at);
        }
        // Without segments every thread's (empty) entries start at the end.
        starts.resize(self.threads + 1, at);
        starts
    }

    /// `s` with its threads renamed, into `out`: thread `i` of `out` is thread
    /// `from[i]` of `s`, with its pc, its registers and its `per_thread`
    /// segments (thread `t` owning segments `t * per_thread ..`); memory and
    /// the fixed words stay. Threads `i` and `from[i]` must have as many
    /// registers.
    pub fn rename_threads(&self, s: &[Val], from: &[usize], per_thread: usize, out: &mut Vec<Val>) {
        debug_assert_eq!(self.segments, per_thread * self.threads);
        out.clear();
        out.extend(from.iter().map(|&t| s[t]));
        for &t in from {
            out.extend_from_slice(&s[self.reg_start[t]..self.reg_start[t + 1]]);
        }
        let lengths = self.segments_start();
        out.extend_from_slice(&s[self.mem_start()..lengths]);
        for &t in from {
            out.extend_from_slice(self.segment_lengths(s, t * per_thread..(t + 1) * per_thread));
        }
        let entries = self.thread_entries(s, per_thread);
        for &t in from {
            out.extend_from_slice(&s[entries[t]..entries[t + 1]]);
        }
    }

    /// Whether segments `range` are all empty.
    pub fn segments_empty(&self, s: &[Val], range: Range<usize>) -> bool {
        self.segment_lengths(s, range).iter().all(|&n| n == 0)
    }

    /// Whether every segment is empty.
    pub fn all_segments_empty(&self, s: &[Val]) -> bool {
        let start = self.segments_start();
        s.len() == start + self.segments && s[start..].iter().all(|&n| n == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse_str;

    fn program() -> Program {
        parse_str(
            r#"Litmus(name: "t", init: {"y": 7}, threads: [[Store("x", 1), Load("r0", "y")], [Load("a", "x"), Load("b", "y")]], condition: "exists x=0")"#,
            "t.ron",
        )
        .unwrap()
        .program
    }

    #[test]
    fn segments_are_fifo_lists_of_fixed_width_entries() {
        let p = program();
        let layout = Layout::new(&p, 3, 2, 2);
        let mut s = layout.initial(&p);
        assert_eq!(layout.mem(&s, Loc(0)), 7);
        assert_eq!(layout.fixed().len(), 3);
        assert!(layout.all_segments_empty(&s));
        layout.push(&mut s, 0, &[1, 10]);
        layout.push(&mut s, 0, &[2, 20]);
        layout.push(&mut s, 1, &[3, 30]);
        assert_eq!(layout.segment(&s, 0), &[1, 10, 2, 20]);
        assert_eq!(layout.segment_len(&s, 1), 1);
        assert!(!layout.segments_empty(&s, 0..1) && !layout.segments_empty(&s, 1..2));
        layout.discard(&mut s, 0, 0);
        assert_eq!(layout.segment(&s, 0), &[2, 20]);
        layout.discard(&mut s, 1, 0);
        assert!(layout.segments_empty(&s, 1..2));
        layout.discard(&mut s, 0, 0);
        assert!(layout.all_segments_empty(&s));
        assert_eq!(s, layout.initial(&p));
    }
}
