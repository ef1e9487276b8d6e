//! Masking every string of a serialisable value: what `run.json` and `events.jsonl` are
//! masked with, so a field added later is covered too.

use super::masker::{MASK, Masker};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// `value` with every secret in any of its strings replaced by `***`, walked in its JSON
/// form. Strings are masked unescaped, so a secret holding `"` or `\` is found too (in the
/// JSON text it would be escaped).
pub fn masked_json<T: Serialize + DeserializeOwned>(
    value: &T,
    masker: &Masker,
) -> Result<T, serde_json::Error> {
    let original = serde_json::to_value(value)?;
    if masker.is_empty() {
        return serde_json::from_value(original);
    }
    let mut masked = original.clone();
    mask_json_strings(&mut masked, masker, false);
    match serde_json::from_value(masked) {
        Ok(value) => Ok(value),
        // A secret spelling a word of the value's own vocabulary (`interrupted`) turned a
        // status into `***`: keep strings that are nothing but a secret, which no free text
        // is, and mask the rest.
        Err(_) => {
            let mut masked = original;
            mask_json_strings(&mut masked, masker, true);
            serde_json::from_value(masked)
        }
    }
}

/// Masks every string in `value`; with `keep_whole_words`, a string that is exactly one
/// secret is left alone (see [`masked_json`]).
pub fn mask_json_strings(value: &mut Value, masker: &Masker, keep_whole_words: bool) {
    match value {
        Value::String(text) => {
            if let std::borrow::Cow::Owned(masked) = masker.mask(text)
                && !(keep_whole_words && masked == MASK)
            {
                *text = masked;
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| mask_json_strings(item, masker, keep_whole_words)),
        Value::Object(fields) => fields
            .values_mut()
            .for_each(|field| mask_json_strings(field, masker, keep_whole_words)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}
