//! Problems found in a pipeline file, with where they are and how to fix them.

use std::fmt;
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceSpan};

use crate::snippet::ClippedSource;

/// How bad a finding is: errors stop the run, notes and warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Note,
    Warning,
    Error,
}

/// A place in a pipeline file: 1-based line and column (in characters), byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Location {
    pub line: usize,
    pub column: usize,
    pub offset: usize,
    pub len: usize,
    /// Which file: 0 is the file parsed, `n` is [`Diagnostics::included`]`[n - 1]` (an
    /// override file, an `include`d or `extends`ed one).
    pub file: usize,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Lowercase sentence fragment: "unknown field `timout` in job `web`".
    pub message: String,
    pub location: Option<Location>,
    /// Short text under the caret.
    pub label: Option<String>,
    /// What to do: "did you mean `timeout`?".
    pub hint: Option<String>,
}

/// Every error (and note) found in one file, renderable like a compiler's output.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    pub source_name: String,
    pub source_text: String,
    /// Sorted by file and position; at least one has [`Severity::Error`].
    pub items: Vec<Diagnostic>,
    /// The other files read with it (override files, includes, extends), which
    /// [`Location::file`] counts from 1.
    pub included: Vec<crate::Source>,
}

impl Diagnostic {
    /// Sets the text under the caret.
    pub(crate) fn with_label(&mut self, label: impl Into<String>) -> &mut Self {
        self.label = Some(label.into());
        self
    }

    /// Sets what to do about it.
    pub(crate) fn with_hint(&mut self, hint: impl Into<String>) -> &mut Self {
        self.hint = Some(hint.into());
        self
    }

    /// Renders like a compiler: `name:line:column`, the source line, a caret, label and hint.
    pub fn render(&self, source_name: &str, source_text: &str, color: bool) -> String {
        self.render_shared(source_name, &Arc::from(source_text), color)
    }

    fn render_shared(&self, source_name: &str, source_text: &Arc<str>, color: bool) -> String {
        let span = self
            .location
            .map(|location| clamp_span(location, source_text));
        let focus = span.map_or(0, |span| span.offset());
        let source = ClippedSource::new(source_name, source_text, focus);
        let report = Report {
            diagnostic: self,
            span: span.map(|span| source.shown_span(span)),
            source,
            source_name,
        };
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_links(false)
            .with_urls(false)
            .with_width(100);
        let mut output = String::new();
        if handler.render_report(&mut output, &report).is_err() {
            // Rendering into a String cannot fail short of a bug in the handler; fall back
            // to the plain form rather than losing the finding.
            output = report.to_string();
        }
        output
    }
}

/// Past this many findings the rest are counted but not drawn (each drawing scans the file).
const MAX_RENDERED: usize = 100;

impl Diagnostics {
    /// Renders every finding, then a summary like "error: 3 problems in pipekit.yml".
    pub fn render(&self, color: bool) -> String {
        let main: Arc<str> = Arc::from(self.source_text.as_str());
        let others: Vec<Arc<str>> = self
            .included
            .iter()
            .map(|source| Arc::from(source.text.as_str()))
            .collect();
        let mut output = String::new();
        for item in self.items.iter().take(MAX_RENDERED) {
            let file = item.location.map_or(0, |location| location.file);
            let (name, text) = match file
                .checked_sub(1)
                .and_then(|at| Some((self.included.get(at)?, others.get(at)?)))
            {
                Some((source, text)) => (source.name.as_str(), text),
                None => (self.source_name.as_str(), &main),
            };
            output.push_str(item.render_shared(name, text, color).trim_end());
            output.push_str("\n\n");
        }
        let hidden = self.items.len().saturating_sub(MAX_RENDERED);
        if hidden > 0 {
            output.push_str(&format!("… and {hidden} more not shown\n"));
        }
        output.push_str(&self.summary());
        output.push('\n');
        output
    }

    /// "error: 2 problems in pipekit.yml (and 1 note)".
    fn summary(&self) -> String {
        let count = |severity| {
            self.items
                .iter()
                .filter(|item| item.severity == severity)
                .count()
        };
        let problems = count(Severity::Error) + count(Severity::Warning);
        let notes = count(Severity::Note);
        let mut summary = format!(
            "error: {problems} problem{} in {}",
            plural(problems),
            self.source_name
        );
        if notes > 0 {
            summary.push_str(&format!(" (and {notes} note{})", plural(notes)));
        }
        summary
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.render(false).trim_end())
    }
}

impl std::error::Error for Diagnostics {}

/// Keeps a span inside the text and on character boundaries, which miette expects.
fn clamp_span(location: Location, text: &str) -> SourceSpan {
    let mut start = location.offset.min(text.len());
    while start > 0 && !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = start.saturating_add(location.len).min(text.len());
    while end < text.len() && !text.is_char_boundary(end) {
        end += 1;
    }
    SourceSpan::new(start.into(), end - start)
}

/// One finding dressed for miette's graphical handler.
struct Report<'a> {
    diagnostic: &'a Diagnostic,
    source: ClippedSource,
    source_name: &'a str,
    span: Option<SourceSpan>,
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diagnostic, formatter)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.span, self.diagnostic.location) {
            (Some(_), Some(_)) => formatter.write_str(&self.diagnostic.message),
            // Without a snippet miette would not name the file.
            _ => write!(
                formatter,
                "{}: {}",
                self.source_name, self.diagnostic.message
            ),
        }
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Note => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.diagnostic
            .hint
            .as_ref()
            .map(|hint| Box::new(hint) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.span.map(|_| &self.source as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = self.span?;
        let label = LabeledSpan::new_primary_with_span(self.diagnostic.label.clone(), span);
        Some(Box::new(std::iter::once(label)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str =
        "services:\n  web:\n    image: nginx\n    depends_on:\n      - database.redy\n";

    fn finding(severity: Severity, location: Option<Location>) -> Diagnostic {
        Diagnostic {
            severity,
            message: "job `database` declares no signal `redy`".to_owned(),
            location,
            label: Some("unknown signal".to_owned()),
            hint: Some("did you mean `database.ready`?".to_owned()),
        }
    }

    fn located() -> Option<Location> {
        Some(Location {
            line: 5,
            column: 18,
            offset: 67,
            len: 4,
            file: 0,
        })
    }

    #[test]
    fn renders_position_line_caret_label_and_hint() {
        let rendered = finding(Severity::Error, located()).render("pipekit.yml", TEXT, false);
        for expected in [
            "pipekit.yml:5:18",
            "      - database.redy",
            "────",
            "unknown signal",
            "did you mean `database.ready`?",
        ] {
            assert!(
                rendered.contains(expected),
                "{expected:?} missing from\n{rendered}"
            );
        }
        assert!(
            !rendered.contains('\u{1b}'),
            "no colour codes when colour is off"
        );
    }

    #[test]
    fn renders_findings_without_a_location_with_the_file_name() {
        let rendered = finding(Severity::Error, None).render("pipekit.yml", TEXT, false);
        assert!(
            rendered.contains("pipekit.yml: job `database`"),
            "{rendered}"
        );
    }

    #[test]
    fn survives_locations_outside_the_text() {
        let location = Location {
            line: 99,
            column: 1,
            offset: 10_000,
            len: 50,
            file: 0,
        };
        let rendered = finding(Severity::Warning, Some(location)).render("pipekit.yml", "é", true);
        assert!(rendered.contains("redy"), "{rendered}");
    }

    #[test]
    fn summarises_problems_and_notes() {
        let diagnostics = Diagnostics {
            source_name: "pipekit.yml".to_owned(),
            source_text: TEXT.to_owned(),
            items: vec![
                finding(Severity::Error, located()),
                finding(Severity::Warning, located()),
                finding(Severity::Note, located()),
            ],
            included: Vec::new(),
        };
        let shown = diagnostics.to_string();
        assert!(
            shown.ends_with("error: 2 problems in pipekit.yml (and 1 note)"),
            "{shown}"
        );
        assert_eq!(shown.matches("pipekit.yml:5:18").count(), 3, "{shown}");
    }
}
