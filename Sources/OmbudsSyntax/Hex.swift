/// Lowercase hexadecimal text of bytes: the rule-set hash, pseudonyms, signatures, store keys.
public enum Hex {
  public static func encode<B: Sequence>(_ bytes: B) -> String where B.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(64)
    for b in bytes {
      out.append(digits[Int(b >> 4)])
      out.append(digits[Int(b & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// A new random key of `count` bytes, as hex: the store's pseudonym key.
  public static func randomKey(count: Int = 32) -> String {
    var rng = SystemRandomNumberGenerator()
    return encode((0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) })
  }
}
