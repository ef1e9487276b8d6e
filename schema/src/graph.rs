//! Cycles in the `depends_on` graph: a job that waits, through others, for itself never starts.

use crate::diagnostic::Location;
use crate::resolve::Edge;

/// A cycle as job indexes (first == last) and the `depends_on` entry that closes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cycle {
    pub(crate) path: Vec<usize>,
    pub(crate) closing: Location,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    Unvisited,
    OnPath,
    Done,
}

/// Every cycle closed by a back edge of a depth-first walk, each reported once.
pub(crate) fn find_cycles(edges: &[Vec<Edge>]) -> Vec<Cycle> {
    // One edge per pair of jobs: `b.Started` and `b.ready` close the same cycle. Per
    // target, the last job that listed it: repeats are found without a scan. Each edge is
    // kept as (target, its index in the job's edges), its location looked up on a cycle.
    let mut listed_by = vec![usize::MAX; edges.len()];
    let targets: Vec<Vec<(usize, usize)>> = edges
        .iter()
        .enumerate()
        .map(|(job, job_edges)| {
            let mut seen = Vec::with_capacity(job_edges.len());
            for (index, edge) in job_edges.iter().enumerate() {
                let target = edge.condition.job.0;
                match listed_by.get_mut(target) {
                    Some(listed) if *listed == job => {}
                    Some(listed) => {
                        *listed = job;
                        seen.push((target, index));
                    }
                    // Not a job of this graph: kept, as before, for the walk to ignore.
                    None => seen.push((target, index)),
                }
            }
            seen
        })
        .collect();
    let mut marks = vec![Mark::Unvisited; targets.len()];
    let mut cycles = Vec::new();
    for start in 0..targets.len() {
        if marks.get(start) != Some(&Mark::Unvisited) {
            continue;
        }
        // Iterative, so that a very long chain of jobs cannot overflow the stack.
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        set(&mut marks, start, Mark::OnPath);
        while let Some((node, next)) = stack.last_mut() {
            let node = *node;
            let Some(&(target, edge)) = targets.get(node).and_then(|list| list.get(*next)) else {
                set(&mut marks, node, Mark::Done);
                stack.pop();
                continue;
            };
            *next += 1;
            match marks.get(target) {
                Some(Mark::Unvisited) => {
                    set(&mut marks, target, Mark::OnPath);
                    stack.push((target, 0));
                }
                Some(Mark::OnPath) => {
                    let from = stack
                        .iter()
                        .position(|(on_path, _)| *on_path == target)
                        .unwrap_or(0);
                    let mut path: Vec<usize> =
                        stack.iter().skip(from).map(|(job, _)| *job).collect();
                    path.push(target);
                    let Some(closing) = edges.get(node).and_then(|list| list.get(edge)) else {
                        continue;
                    };
                    cycles.push(Cycle {
                        path,
                        closing: closing.location,
                    });
                }
                _ => {}
            }
        }
    }
    cycles
}

fn set(marks: &mut [Mark], index: usize, mark: Mark) {
    if let Some(slot) = marks.get_mut(index) {
        *slot = mark;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::{Awaited, Condition, JobId};

    fn graph(lists: &[&[usize]]) -> Vec<Vec<Edge>> {
        lists
            .iter()
            .enumerate()
            .map(|(from, targets)| {
                targets
                    .iter()
                    .map(|target| Edge {
                        condition: Condition {
                            job: JobId(*target),
                            awaited: Awaited::Started,
                        },
                        location: Location {
                            line: from + 1,
                            column: *target + 1,
                            offset: 0,
                            len: 0,
                            file: 0,
                        },
                    })
                    .collect()
            })
            .collect()
    }

    fn paths(lists: &[&[usize]]) -> Vec<Vec<usize>> {
        find_cycles(&graph(lists))
            .into_iter()
            .map(|cycle| cycle.path)
            .collect()
    }

    /// Dependencies per job, and the cycles expected.
    type Case = (&'static [&'static [usize]], Vec<Vec<usize>>);

    #[test]
    fn finds_cycles_once_each() {
        let cases: [Case; 6] = [
            (&[&[], &[0], &[0, 1]], vec![]),
            (&[&[1], &[0]], vec![vec![0, 1, 0]]),
            (&[&[1], &[2], &[0]], vec![vec![0, 1, 2, 0]]),
            (&[&[1, 1], &[0]], vec![vec![0, 1, 0]]),
            (
                &[&[1], &[0], &[3], &[2]],
                vec![vec![0, 1, 0], vec![2, 3, 2]],
            ),
            (&[&[1], &[2], &[1]], vec![vec![1, 2, 1]]),
        ];
        for (lists, expected) in cases {
            assert_eq!(paths(lists), expected, "{lists:?}");
        }
    }

    #[test]
    fn locates_the_closing_entry() {
        let cycles = find_cycles(&graph(&[&[1], &[2], &[0]]));
        assert_eq!(cycles.len(), 1);
        assert_eq!((cycles[0].closing.line, cycles[0].closing.column), (3, 1));
    }

    #[test]
    fn survives_long_chains() {
        let chain: Vec<Vec<usize>> = (0..200_000).map(|job| vec![(job + 1) % 200_000]).collect();
        let lists: Vec<&[usize]> = chain.iter().map(Vec::as_slice).collect();
        let cycles = find_cycles(&graph(&lists));
        assert_eq!(cycles.len(), 1);
        assert_eq!(cycles[0].path.len(), 200_001);
    }
}
