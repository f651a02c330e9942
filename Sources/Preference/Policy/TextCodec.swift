/// Turns text into token ids and back, and renders a prompt with its chat template.
///
/// The tokenizer target's BPE tokenizer plus chat template conform to this; tests use a byte codec.
public protocol TextCodec: Sendable {
    /// Token ids of `text`, with no special tokens added.
    func encode(_ text: String) -> [Int32]
    /// Text of `ids`; special tokens are dropped.
    func decode(_ ids: [Int32]) -> String
    /// The end-of-sequence id that closes every response.
    var eos: Int32 { get }
    /// The id used to pad batches on the right (never scored).
    var pad: Int32 { get }
    /// The prompt rendered with the chat template and the generation prompt (the assistant turn's opening).
    func promptTokens(_ p: Prompt) -> [Int32]
}
