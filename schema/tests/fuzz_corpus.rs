//! Replays the fuzzers' seeds and every crash they found through the same checks the fuzz
//! targets in `fuzz/` make, so a fixed crash stays fixed without libFuzzer.

#[path = "../../fuzz/checks/corpus.rs"]
mod corpus;
#[path = "../../fuzz/checks/pipeline.rs"]
mod pipeline;
#[path = "../../fuzz/checks/signal_expression.rs"]
mod signal_expression;

#[test]
fn pipeline_inputs_validate_or_render_their_errors() {
    corpus::replay("pipeline", pipeline::check);
}

#[test]
fn expression_ranges_slice_the_input() {
    corpus::replay("signal_expression", signal_expression::check);
}
