//! LEB128, the variable-length encoding of unsigned integers: seven bits per
//! byte, low bits first, the high bit of each byte set when another byte
//! follows. Numbers under 128 take one byte. No encoding is a prefix of
//! another, so sequences encoded back to back are equal exactly when their
//! numbers are: the state store and the graph engine's sets of seen graphs
//! compare and hash such bytes instead of the wider numbers.

/// Appends the LEB128 encoding of `n` to `out`.
pub(crate) fn push(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push(n as u8 | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// The LEB128 encodings of `numbers`, back to back, in a box of exactly
/// their size.
pub(crate) fn packed(numbers: impl Iterator<Item = u64> + Clone) -> Box<[u8]> {
    // Nearly always every number is under 128, a byte each: one pass tells,
    // another copies, without a branch per number.
    let (any, count) = numbers
        .clone()
        .fold((0, 0), |(any, count), n| (any | n, count + 1));
    if any < 0x80 {
        let mut out = Vec::with_capacity(count);
        out.extend(numbers.map(|n| n as u8));
        return out.into_boxed_slice();
    }
    let len = numbers.clone().map(encoded_len).sum();
    let mut out = Vec::with_capacity(len);
    for n in numbers {
        push(&mut out, n);
    }
    debug_assert_eq!(out.len(), len, "invariant: encoded_len predicts push");
    out.into_boxed_slice()
}

/// The bytes [`push`] writes for `n`.
fn encoded_len(n: u64) -> usize {
    (64 - (n | 1).leading_zeros()).div_ceil(7) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_numbers_take_one_byte_and_sequences_stay_apart() {
        for (n, len) in [
            (0, 1),
            (127, 1),
            (128, 2),
            (16_383, 2),
            (16_384, 3),
            (u64::MAX, 10),
        ] {
            let mut out = Vec::new();
            push(&mut out, n);
            assert_eq!(out.len(), len, "{n}");
            assert_eq!(encoded_len(n), len, "{n}");
        }
        assert_eq!(&*packed([1u64, 300, 0].into_iter()), &[1, 0xac, 0x02, 0]);
        // [128] and [0, 1] would collide without the continuation bits.
        assert_ne!(packed([128u64].into_iter()), packed([0u64, 1].into_iter()));
    }
}
