import OmbudsStore

/// The bulletin as one self-contained HTML page (being written: see the bulletin issue).
public enum BulletinHTML {
  public static func render(_ b: Bulletin) -> String {
    "<!doctype html><meta charset=utf-8><pre>" + BulletinMarkdown.render(b) + "</pre>\n"
  }
}
