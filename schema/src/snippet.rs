//! The source text a diagnostic draws, with overlong lines cut to a window around the finding:
//! a minified or hostile file (100,000 brackets on one line) must not print megabytes.

use std::sync::Arc;

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// Longer lines are shown as a window of about this many bytes.
const MAX_SHOWN_LINE: usize = 160;
/// How much of the line before the finding the window keeps.
const CONTEXT_BEFORE: usize = 60;
const ELLIPSIS: &str = "…";

/// A range of the real text left out of the shown text, replaced by [`ELLIPSIS`].
#[derive(Debug, Clone, Copy)]
struct Cut {
    real_start: usize,
    real_end: usize,
    shown_start: usize,
}

/// The text miette reads: lines and line numbers as in the real text, long lines clipped,
/// and the column in the header still that of the real text.
#[derive(Debug)]
pub(crate) struct ClippedSource {
    name: String,
    real: Arc<str>,
    shown: Arc<str>,
    cuts: Vec<Cut>,
}

impl ClippedSource {
    /// Clips every overlong line; the one holding `focus` (a byte offset) keeps the window
    /// around it, the others their start.
    pub(crate) fn new(name: &str, real: &Arc<str>, focus: usize) -> Self {
        let mut cuts = Vec::new();
        let mut shown = String::new();
        let mut kept_from = 0;
        let mut line_start = 0;
        for line in real.split_inclusive('\n') {
            let line_end = line_start + line.trim_end_matches(['\n', '\r']).len();
            if line_end - line_start > MAX_SHOWN_LINE {
                let wanted = if (line_start..=line_end).contains(&focus) {
                    focus.saturating_sub(CONTEXT_BEFORE).max(line_start)
                } else {
                    line_start
                };
                let window_start = floor_boundary(real, wanted);
                let window_end =
                    floor_boundary(real, (window_start + MAX_SHOWN_LINE).min(line_end));
                for (start, end) in [(line_start, window_start), (window_end, line_end)] {
                    if start < end {
                        shown.push_str(&real[kept_from..start]);
                        cuts.push(Cut {
                            real_start: start,
                            real_end: end,
                            shown_start: shown.len(),
                        });
                        shown.push_str(ELLIPSIS);
                        kept_from = end;
                    }
                }
            }
            line_start += line.len();
        }
        let shown = if cuts.is_empty() {
            Arc::clone(real)
        } else {
            shown.push_str(&real[kept_from..]);
            Arc::from(shown)
        };
        Self {
            name: name.to_owned(),
            real: Arc::clone(real),
            shown,
            cuts,
        }
    }

    /// Where a span of the real text is drawn; parts inside a cut shrink to its ellipsis.
    pub(crate) fn shown_span(&self, span: SourceSpan) -> SourceSpan {
        let start = self.to_shown(span.offset(), false);
        let end = self.to_shown(span.offset() + span.len(), true).max(start);
        SourceSpan::new(start.into(), end - start)
    }

    fn to_shown(&self, real: usize, is_end: bool) -> usize {
        let index = self.cuts.partition_point(|cut| cut.real_end <= real);
        let (shown_base, real_base) = match index.checked_sub(1).map(|before| self.cuts[before]) {
            Some(cut) => (cut.shown_start + ELLIPSIS.len(), cut.real_end),
            None => (0, 0),
        };
        match self.cuts.get(index) {
            Some(cut) if cut.real_start <= real && real < cut.real_end => {
                cut.shown_start + if is_end { ELLIPSIS.len() } else { 0 }
            }
            _ => shown_base + (real - real_base),
        }
    }

    fn to_real(&self, shown: usize) -> usize {
        let index = self.cuts.partition_point(|cut| cut.shown_start < shown);
        match index.checked_sub(1).map(|before| self.cuts[before]) {
            Some(cut) if shown < cut.shown_start + ELLIPSIS.len() => cut.real_start,
            Some(cut) => cut.real_end + (shown - cut.shown_start - ELLIPSIS.len()),
            None => shown,
        }
        .min(self.real.len())
    }
}

fn floor_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl SourceCode for ClippedSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let contents =
            self.shown
                .as_ref()
                .read_span(span, context_lines_before, context_lines_after)?;
        // miette takes the header's column from here: count it in the real line, in bytes
        // as miette itself does.
        let real_offset = self.to_real(span.offset());
        let line_start = self.real[..real_offset].rfind('\n').map_or(0, |at| at + 1);
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            contents.data(),
            *contents.span(),
            contents.line(),
            real_offset - line_start,
            contents.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clipped(text: &str, focus: usize) -> ClippedSource {
        ClippedSource::new("p.yml", &Arc::from(text), focus)
    }

    #[test]
    fn short_lines_are_shown_as_they_are() {
        let source = clipped("a: 1\nb: 2\n", 3);
        assert_eq!(&*source.shown, "a: 1\nb: 2\n");
        let span = SourceSpan::new(8.into(), 1);
        assert_eq!(source.shown_span(span), span);
    }

    #[test]
    fn a_long_line_keeps_a_window_around_the_focus() {
        let text = format!(
            "top: 1\n{}X{}\nend: 2\n",
            "[".repeat(5_000),
            "]".repeat(5_000)
        );
        let focus = 7 + 5_000;
        let source = clipped(&text, focus);
        let shown_line = source.shown.lines().nth(1).unwrap_or_default();
        assert!(shown_line.len() < MAX_SHOWN_LINE + 2 * ELLIPSIS.len() + 1);
        assert!(shown_line.starts_with(ELLIPSIS) && shown_line.ends_with(ELLIPSIS));
        assert!(source.shown.ends_with("\nend: 2\n"), "other lines kept");
        let span = source.shown_span(SourceSpan::new(focus.into(), 1));
        assert_eq!(&source.shown[span.offset()..span.offset() + 1], "X");
        assert_eq!(source.to_real(span.offset()), focus);
    }

    #[test]
    fn the_header_keeps_the_real_line_and_column() -> Result<(), MietteError> {
        let text = format!("top: 1\n{}X\n", " ".repeat(1_000));
        let focus = 7 + 1_000;
        let source = clipped(&text, focus);
        let span = source.shown_span(SourceSpan::new(focus.into(), 1));
        let contents = source.read_span(&span, 0, 0)?;
        assert_eq!((contents.line(), contents.column()), (1, 1_000));
        Ok(())
    }

    #[test]
    fn spans_inside_a_cut_shrink_to_its_ellipsis() {
        let text = "x".repeat(10_000);
        let source = clipped(&text, 0);
        let span = source.shown_span(SourceSpan::new(9_000.into(), 500));
        assert_eq!(
            &source.shown[span.offset()..span.offset() + span.len()],
            ELLIPSIS
        );
    }

    #[test]
    fn multibyte_text_is_cut_on_character_boundaries() {
        let text = "é".repeat(3_000);
        let source = clipped(&text, 2_001);
        assert!(source.shown.chars().count() < MAX_SHOWN_LINE + 2);
    }
}
