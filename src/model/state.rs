//! The machine state as one flat vector of values, so states hash and compare as
//! plain slices and a visited set stores one allocation per state.
//!
//! Layout, for `T` threads, `L` variables and `B` buffers:
//!
//! ```text
//! [ pc_0 .. pc_{T-1} | registers of thread 0 | ... | thread T-1 | mem_0 .. mem_{L-1}
//!   | race-detection words (see `races`) | buffer_0 | ... | buffer_{B-1} ]
//! ```
//!
//! A buffer is its length `n` followed by its entries, oldest first. With one
//! buffer per thread an entry is `(variable, value)`; with one buffer per thread
//! and variable (buffer `t * L + l`) an entry is just the value.
//!
//! Invariant: `0 <= pc_t <= code length of thread t`; buffer lengths are
//! non-negative and the vector ends exactly after the last buffer.

use crate::ir::{Loc, Program, ThreadId, Val};

use super::BufferShape;

/// Offsets into the flat state for one program under one buffer shape.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    threads: usize,
    locs: usize,
    /// Start of each thread's registers; `reg_start[threads]` is the start of memory.
    reg_start: Vec<usize>,
    /// Number of race-detection words after memory.
    race_words: usize,
    shape: BufferShape,
}

impl Layout {
    pub fn new(program: &Program, shape: BufferShape, race_words: usize) -> Self {
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
            race_words,
            shape,
        }
    }

    /// The initial state: pcs at 0, registers and memory at their initial values,
    /// buffers empty.
    pub fn initial(&self, program: &Program) -> Vec<Val> {
        let mut s = vec![0; self.threads];
        for thread in &program.threads {
            s.extend(thread.regs.iter().map(|r| r.init));
        }
        s.extend(program.locs.iter().map(|l| l.init));
        s.extend(std::iter::repeat_n(
            0,
            self.race_words + self.buffer_count(),
        ));
        s
    }

    fn mem_start(&self) -> usize {
        self.reg_start[self.threads]
    }

    /// Offset of the first race-detection word.
    pub fn race_start(&self) -> usize {
        self.mem_start() + self.locs
    }

    fn buffers_start(&self) -> usize {
        self.race_start() + self.race_words
    }

    pub fn buffer_count(&self) -> usize {
        match self.shape {
            BufferShape::None => 0,
            BufferShape::PerThread => self.threads,
            BufferShape::PerThreadPerLocation => self.threads * self.locs,
        }
    }

    fn entry_width(&self) -> usize {
        match self.shape {
            BufferShape::PerThreadPerLocation => 1,
            _ => 2,
        }
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

    /// The buffers of thread `t`, as buffer indices.
    pub fn thread_buffers(&self, t: ThreadId) -> std::ops::Range<usize> {
        match self.shape {
            BufferShape::None => 0..0,
            BufferShape::PerThread => t.index()..t.index() + 1,
            BufferShape::PerThreadPerLocation => t.index() * self.locs..(t.index() + 1) * self.locs,
        }
    }

    /// The buffer a store by `t` to `l` enters.
    pub fn buffer_for(&self, t: ThreadId, l: Loc) -> usize {
        match self.shape {
            BufferShape::None => unreachable!("invariant: no buffers without a buffer shape"),
            BufferShape::PerThread => t.index(),
            BufferShape::PerThreadPerLocation => t.index() * self.locs + l.index(),
        }
    }

    /// Offset of buffer `b`'s length word.
    fn buffer_offset(&self, s: &[Val], b: usize) -> usize {
        let width = self.entry_width();
        let mut at = self.buffers_start();
        for _ in 0..b {
            at += 1 + s[at] as usize * width;
        }
        at
    }

    pub fn buffer_len(&self, s: &[Val], b: usize) -> usize {
        s[self.buffer_offset(s, b)] as usize
    }

    /// Whether every buffer of thread `t` is empty.
    pub fn buffers_empty(&self, s: &[Val], t: ThreadId) -> bool {
        let range = self.thread_buffers(t);
        if range.is_empty() {
            return true;
        }
        // An empty buffer is one zero word, so the thread's buffers are all empty
        // exactly when the words from its first buffer on are zero.
        let at = self.buffer_offset(s, range.start);
        s[at..at + range.len()].iter().all(|&n| n == 0)
    }

    /// Whether every buffer of every thread is empty.
    pub fn all_buffers_empty(&self, s: &[Val]) -> bool {
        // Empty buffers are single zero words, so all are empty exactly when the
        // buffer region is as short as possible and all zero.
        let start = self.buffers_start();
        s.len() == start + self.buffer_count() && s[start..].iter().all(|&n| n == 0)
    }

    /// Appends `(l, v)` to buffer `b`.
    pub fn push(&self, s: &mut Vec<Val>, b: usize, l: Loc, v: Val) {
        let at = self.buffer_offset(s, b);
        let n = s[at] as usize;
        let end = at + 1 + n * self.entry_width();
        s[at] += 1;
        match self.shape {
            BufferShape::PerThreadPerLocation => {
                s.insert(end, v);
            }
            _ => {
                s.splice(end..end, [Val::from(l.0), v]);
            }
        }
    }

    /// Removes and returns the oldest entry of non-empty buffer `b`.
    pub fn pop_oldest(&self, s: &mut Vec<Val>, b: usize) -> (Loc, Val) {
        let at = self.buffer_offset(s, b);
        debug_assert!(s[at] > 0, "invariant: pop from a non-empty buffer");
        s[at] -= 1;
        match self.shape {
            BufferShape::PerThreadPerLocation => {
                let l = Loc((b % self.locs) as u16);
                (l, s.remove(at + 1))
            }
            _ => {
                let entry: Vec<Val> = s.drain(at + 1..at + 3).collect();
                (Loc(entry[0] as u16), entry[1])
            }
        }
    }

    /// The newest value thread `t` has buffered for `l`, if any, with the
    /// buffer and the entry's position in it (0 is the oldest).
    pub fn newest_buffered(&self, s: &[Val], t: ThreadId, l: Loc) -> Option<(Val, usize, usize)> {
        match self.shape {
            BufferShape::None => None,
            BufferShape::PerThread => {
                let b = t.index();
                let at = self.buffer_offset(s, b);
                let n = s[at] as usize;
                let entries = &s[at + 1..at + 1 + 2 * n];
                entries
                    .chunks_exact(2)
                    .enumerate()
                    .rev()
                    .find(|(_, e)| e[0] == Val::from(l.0))
                    .map(|(i, e)| (e[1], b, i))
            }
            BufferShape::PerThreadPerLocation => {
                let b = self.buffer_for(t, l);
                let at = self.buffer_offset(s, b);
                let n = s[at] as usize;
                (n > 0).then(|| (s[at + n], b, n - 1))
            }
        }
    }

    /// The entries of buffer `b`, oldest first.
    pub fn buffer_entries(&self, s: &[Val], b: usize) -> Vec<(Loc, Val)> {
        let at = self.buffer_offset(s, b);
        let n = s[at] as usize;
        match self.shape {
            BufferShape::PerThreadPerLocation => {
                let l = Loc((b % self.locs) as u16);
                s[at + 1..at + 1 + n].iter().map(|&v| (l, v)).collect()
            }
            _ => s[at + 1..at + 1 + 2 * n]
                .chunks_exact(2)
                .map(|e| (Loc(e[0] as u16), e[1]))
                .collect(),
        }
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
    fn per_thread_buffer_is_fifo_with_newest_forwarding() {
        let p = program();
        let layout = Layout::new(&p, BufferShape::PerThread, 0);
        let mut s = layout.initial(&p);
        let (t0, t1) = (ThreadId(0), ThreadId(1));
        let (x, y) = (Loc(1), Loc(0));
        assert_eq!(layout.mem(&s, y), 7);
        assert!(layout.all_buffers_empty(&s));
        layout.push(&mut s, 0, x, 1);
        layout.push(&mut s, 0, y, 2);
        layout.push(&mut s, 0, x, 3);
        assert_eq!(layout.buffer_len(&s, 0), 3);
        assert!(!layout.buffers_empty(&s, t0) && layout.buffers_empty(&s, t1));
        assert_eq!(layout.newest_buffered(&s, t0, x), Some((3, 0, 2)));
        assert_eq!(layout.newest_buffered(&s, t1, x), None);
        assert_eq!(layout.pop_oldest(&mut s, 0), (x, 1));
        assert_eq!(layout.pop_oldest(&mut s, 0), (y, 2));
        assert_eq!(layout.buffer_entries(&s, 0), vec![(x, 3)]);
        layout.push(&mut s, 1, y, 9);
        assert_eq!(layout.buffer_entries(&s, 1), vec![(y, 9)]);
        assert_eq!(layout.pop_oldest(&mut s, 0), (x, 3));
        assert_eq!(layout.pop_oldest(&mut s, 1), (y, 9));
        assert!(layout.all_buffers_empty(&s));
        assert_eq!(s, layout.initial(&p));
    }

    #[test]
    fn per_location_buffers_are_independent() {
        let p = program();
        let layout = Layout::new(&p, BufferShape::PerThreadPerLocation, 0);
        let mut s = layout.initial(&p);
        let t0 = ThreadId(0);
        let (y, x) = (Loc(0), Loc(1));
        assert_eq!(layout.buffer_count(), 4);
        layout.push(&mut s, layout.buffer_for(t0, x), x, 1);
        layout.push(&mut s, layout.buffer_for(t0, y), y, 2);
        layout.push(&mut s, layout.buffer_for(t0, x), x, 3);
        assert_eq!(layout.newest_buffered(&s, t0, x), Some((3, 1, 1)));
        // y's store can leave before the older stores to x.
        assert_eq!(layout.pop_oldest(&mut s, layout.buffer_for(t0, y)), (y, 2));
        assert_eq!(layout.pop_oldest(&mut s, layout.buffer_for(t0, x)), (x, 1));
        assert_eq!(layout.newest_buffered(&s, t0, x), Some((3, 1, 0)));
        assert!(!layout.buffers_empty(&s, t0));
        assert_eq!(layout.pop_oldest(&mut s, layout.buffer_for(t0, x)), (x, 3));
        assert!(layout.buffers_empty(&s, t0) && layout.all_buffers_empty(&s));
    }
}
