//! Compose's variable interpolation: `${VAR}` and its forms in every string value.

use crate::Options;
use crate::context::Context;
use crate::raw::{Node, Spanned};

/// The variables `${VAR}` is replaced from: pipekit-ci's environment over the env file.
pub(crate) struct Variables {}

impl Variables {
    pub(crate) fn new(_cx: &mut Context<'_>, _options: &Options<'_>) -> Self {
        Variables {}
    }
}

/// Replaces the variables in every string value of `tree` (not in keys).
pub(crate) fn interpolate(
    _cx: &mut Context<'_>,
    _tree: &mut Spanned<Node>,
    _variables: &Variables,
) {
}
