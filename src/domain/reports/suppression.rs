//! Small-cell suppression. A count below [`THRESHOLD`] is never shown (primary suppression), and
//! where cells add up to a total that is shown, hiding one of them alone would let a reader
//! subtract it back out; so every group (a total and the parts that add up to it) ends with either
//! no hidden cell or at least two (complementary suppression: the smallest visible part, or
//! the total when no part is left). Groups overlap (a municipality's deaths are a part of the
//! region's and the total of its own at-home split), so the rule runs until nothing changes.

/// Counts below this are hidden.
pub const THRESHOLD: u64 = 5;

/// Why a cell is not shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    /// Shown.
    No,
    /// Below the threshold.
    Small,
    /// At or above it, hidden so that a small cell cannot be derived.
    Complement,
}

/// A total and the cells that add up to it (indices into the table).
#[derive(Debug, Clone)]
pub struct Group {
    /// The total's cell.
    pub total: usize,
    /// The cells that add up to it.
    pub parts: Vec<usize>,
}

/// Decides, for every cell of `values`, whether and why it is hidden.
pub fn suppress(values: &[u64], groups: &[Group]) -> Vec<Hidden> {
    suppress_keeping(values, groups, &[])
}

/// [`suppress`], choosing the complementary cells so that the cells of `keep` (a headline) are
/// hidden only when nothing else can be: where a group needs a second hidden cell, any other
/// visible member of it (the total included) goes first. Which cell is chosen does not weaken
/// the rule: every group still ends with no hidden cell or at least two.
pub fn suppress_keeping(values: &[u64], groups: &[Group], keep: &[usize]) -> Vec<Hidden> {
    let primary = values.iter().map(|&v| if v < THRESHOLD { Hidden::Small } else { Hidden::No }).collect();
    complete(values, groups, primary, keep)
}

/// [`suppress`] showing zeros: for counts of records' structure (item fill), where a zero holds
/// no one's record and hiding it would hide that a field is never used.
pub fn suppress_but_zero(values: &[u64], groups: &[Group]) -> Vec<Hidden> {
    let small = |v: u64| v > 0 && v < THRESHOLD;
    complete(values, groups, values.iter().map(|&v| if small(v) { Hidden::Small } else { Hidden::No }).collect(), &[])
}

/// Complementary suppression on top of the primary `hidden`.
fn complete(values: &[u64], groups: &[Group], mut hidden: Vec<Hidden>, keep: &[usize]) -> Vec<Hidden> {
    let is_hidden = |h: &[Hidden], i: usize| h.get(i).is_some_and(|x| *x != Hidden::No);
    // Each pass hides at least one more cell or stops, so it ends within `values.len()` passes.
    for _ in 0..=values.len() {
        let mut changed = false;
        for g in groups {
            let members = std::iter::once(g.total).chain(g.parts.iter().copied());
            if members.filter(|&i| is_hidden(&hidden, i)).count() != 1 {
                continue;
            }
            // The smallest visible part, else the total; a kept cell only when nothing else is left.
            let next = g
                .parts
                .iter()
                .copied()
                // A zero hidden beside a small cell would hide nothing: the small one is the rest.
                .filter(|&i| !is_hidden(&hidden, i) && values.get(i).is_some_and(|&v| v > 0))
                .chain(std::iter::once(g.total).filter(|&t| !is_hidden(&hidden, t)))
                .min_by_key(|&i| (keep.contains(&i), i == g.total, values.get(i).copied().unwrap_or(0)))
                .unwrap_or(g.total);
            if let Some(slot) = hidden.get_mut(next) {
                *slot = Hidden::Complement;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    hidden
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_zeros_never_stand_in_for_a_hidden_cell() {
        // all 12 = 0 + 3 + 9: hiding the zero would still give 3 away as 12 - 9.
        let h = suppress_but_zero(&[12, 0, 3, 9], &[Group { total: 0, parts: vec![1, 2, 3] }]);
        assert_eq!(h, vec![Hidden::No, Hidden::No, Hidden::Small, Hidden::Complement]);
    }

    #[test]
    fn a_lone_small_part_takes_the_smallest_other_part_with_it() {
        // total 30 = 3 + 7 + 20: hiding 3 alone would give it away as 30 - 7 - 20.
        let h = suppress(&[30, 3, 7, 20], &[Group { total: 0, parts: vec![1, 2, 3] }]);
        assert_eq!(h, vec![Hidden::No, Hidden::Small, Hidden::Complement, Hidden::No]);
    }

    #[test]
    fn a_single_part_hides_its_total() {
        let h = suppress(&[8, 8, 0], &[Group { total: 0, parts: vec![1, 2] }]);
        assert_eq!(h, vec![Hidden::No, Hidden::Complement, Hidden::Small]);
        let h = suppress(&[3, 3], &[Group { total: 0, parts: vec![1] }]);
        assert_eq!(h, vec![Hidden::Small, Hidden::Small]);
        let h = suppress(&[9, 2], &[Group { total: 0, parts: vec![1] }]);
        assert_eq!(h, vec![Hidden::Complement, Hidden::Small]);
    }

    #[test]
    fn a_kept_cell_gives_way_to_the_total() {
        // at home or in a facility 23 = at home 20 + facility 3: the 3 is hidden, and its
        // complement is the total rather than the kept headline 20.
        let groups = [Group { total: 0, parts: vec![1, 2] }];
        assert_eq!(suppress(&[23, 20, 3], &groups), vec![Hidden::No, Hidden::Complement, Hidden::Small]);
        assert_eq!(suppress_keeping(&[23, 20, 3], &groups, &[1]), vec![Hidden::Complement, Hidden::No, Hidden::Small]);
        // Kept, and nothing else left: hidden all the same.
        let h = suppress_keeping(&[9, 9, 0], &[Group { total: 0, parts: vec![1, 2] }], &[0, 1]);
        assert_eq!(h.iter().filter(|x| **x != Hidden::No).count(), 2, "{h:?}");
    }

    #[test]
    fn overlapping_groups_run_to_a_fixed_point() {
        // Region 20 = A 12 + B 8; A's 12 = 10 at home + 2 elsewhere: the 2 hides A's 10, and then
        // the region's at-home 16 = A 10 + B 6 must hide B's 6 too.
        let values = [20, 12, 8, 10, 2, 16, 6, 4];
        let groups = [
            Group { total: 1, parts: vec![3, 4] },
            Group { total: 5, parts: vec![3, 6] },
            Group { total: 2, parts: vec![6, 7] },
            Group { total: 0, parts: vec![1, 2] },
        ];
        let h = suppress(&values, &groups);
        for g in &groups {
            let n = std::iter::once(g.total).chain(g.parts.iter().copied()).filter(|&i| h[i] != Hidden::No).count();
            assert_ne!(n, 1, "{g:?} {h:?}");
        }
        assert_eq!(h[4], Hidden::Small);
        assert_eq!(h[3], Hidden::Complement);
    }
}
