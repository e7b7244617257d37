//! Language identification for chunks and customer questions.
//!
//! One guesser serves the whole of Frontdesk: [`frontdesk_core::lang`]
//! (script, function words, letters and endings, `whatlang` as one more
//! vote). This module gives its answers as ISO 639-1 codes, `"und"` when the
//! text does not tell, and names the languages the index stems
//! ([`SUPPORTED`]); a passage in another language the agent speaks (Russian,
//! Japanese, Chinese, Korean) keeps its code but is indexed unstemmed.

use frontdesk_core::lang::{guess, guess_passage, Lang};

/// Languages we stem, as ISO 639-1 codes.
pub const SUPPORTED: [&str; 8] = ["en", "it", "es", "fr", "de", "pt", "sv", "nl"];

/// The code for an unknown language.
pub const UND: &str = "und";

/// `code` as one of the `'static` codes of [`SUPPORTED`], or `"und"`.
pub fn normalize(code: &str) -> &'static str {
    let code = code.trim();
    SUPPORTED.iter().copied().find(|c| c.eq_ignore_ascii_case(code)).unwrap_or(UND)
}

/// The language of a passage (a chunk, a document): an ISO 639-1 code of a
/// language the agent speaks, or `"und"` when it is too short or says
/// nothing telling (numbers, codes, a product name).
pub fn detect(text: &str) -> &'static str {
    guess_passage(text).map_or(UND, Lang::code)
}

/// The language of a short customer message, `default` (when it is the
/// code of a language the agent speaks, else `"und"`) when nothing in it
/// tells.
pub fn detect_query(text: &str, default: &str) -> &'static str {
    match guess(text) {
        Some(l) => l.code(),
        None => Lang::from_code(&default.trim().to_lowercase()).map_or(UND, Lang::code),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_paragraphs_in_every_supported_language() {
        let cases = [
            ("en", "To restore a deleted file, open the Trash from the sidebar, select the file and click Restore. Files stay in the Trash for 30 days before they are removed for good."),
            ("it", "Per ripristinare un file eliminato, apri il Cestino dalla barra laterale, seleziona il file e fai clic su Ripristina. I file restano nel Cestino per 30 giorni prima di essere eliminati definitivamente."),
            ("es", "Para restaurar un archivo eliminado, abre la Papelera desde la barra lateral, selecciona el archivo y haz clic en Restaurar. Los archivos permanecen en la Papelera durante 30 días."),
            ("fr", "Pour restaurer un fichier supprimé, ouvrez la Corbeille depuis la barre latérale, sélectionnez le fichier et cliquez sur Restaurer. Les fichiers restent dans la Corbeille pendant 30 jours."),
            ("de", "Um eine gelöschte Datei wiederherzustellen, öffnen Sie den Papierkorb in der Seitenleiste, wählen Sie die Datei aus und klicken Sie auf Wiederherstellen. Dateien bleiben 30 Tage im Papierkorb."),
            ("pt", "Para restaurar um arquivo excluído, abra a Lixeira na barra lateral, selecione o arquivo e clique em Restaurar. Os arquivos ficam na Lixeira por 30 dias antes de serem apagados."),
            ("sv", "För att återställa en raderad fil öppnar du papperskorgen i sidofältet, markerar filen och klickar på Återställ. Filer ligger kvar i papperskorgen i 30 dagar innan de tas bort."),
            ("nl", "Om een verwijderd bestand te herstellen, open je de prullenbak in de zijbalk, selecteer je het bestand en klik je op Herstellen. Bestanden blijven 30 dagen in de prullenbak."),
            ("ru", "Чтобы восстановить удалённый файл, откройте Корзину на боковой панели, выберите файл и нажмите «Восстановить». Файлы хранятся в Корзине 30 дней."),
            ("ja", "削除したファイルを復元するには、サイドバーからゴミ箱を開き、ファイルを選択して「復元」をクリックします。ファイルは30日間ゴミ箱に保存されます。"),
            ("zh", "要恢复已删除的文件，请从侧边栏打开回收站，选择该文件并点击“恢复”。文件会在回收站中保留 30 天。"),
            ("ko", "삭제한 파일을 복원하려면 사이드바에서 휴지통을 열고 파일을 선택한 다음 복원을 클릭하세요. 파일은 30일 동안 휴지통에 보관됩니다."),
        ];
        for (want, text) in cases {
            assert_eq!(detect(text), want, "{text}");
        }
    }

    #[test]
    fn too_short_or_neutral_text_is_und() {
        assert_eq!(detect(""), "und");
        assert_eq!(detect("42"), "und");
        assert_eq!(detect("ERR-429 / 22H2"), "und");
        assert_eq!(detect("Nimbus Drive"), "und");
    }

    #[test]
    fn detects_short_questions() {
        let cases = [
            ("en", "how do I reset my password?"),
            ("en", "api keeps returning 429"),
            ("it", "come recupero un file cancellato?"),
            ("it", "posso avere la fattura elettronica?"),
            ("es", "¿cómo cambio mi plan?"),
            ("es", "no puedo iniciar sesión en la app"),
            ("fr", "comment changer mon adresse e-mail ?"),
            ("fr", "je ne peux pas partager le dossier"),
            ("de", "wie kann ich mein Passwort ändern?"),
            ("pt", "não consigo entrar na minha conta"),
            ("sv", "hur ändrar jag mitt lösenord?"),
            ("nl", "hoe kan ik mijn wachtwoord wijzigen?"),
            ("ru", "как изменить пароль?"),
            ("ja", "パスワードを変更したい"),
            ("zh", "怎么修改密码"),
            ("ko", "비밀번호 변경"),
        ];
        for (want, text) in cases {
            assert_eq!(detect_query(text, "und"), want, "{text}");
        }
    }

    #[test]
    fn query_falls_back_to_the_default() {
        assert_eq!(detect_query("ORD-12345", "fr"), "fr");
        assert_eq!(detect_query("👍", "es"), "es");
        assert_eq!(detect_query("👍", "ko"), "ko");
        assert_eq!(detect_query("429", "xx"), "und");
        assert_eq!(detect_query("", "EN"), "en");
    }

    #[test]
    fn core_and_knowledge_agree() {
        for text in ["How do I reset my password?", "Come posso cambiare il piano?", "Wo finde ich meine Rechnung?"] {
            let core = frontdesk_core::lang::detect(text, Lang::Ko);
            assert_eq!(detect_query(text, "ko"), core.code(), "{text}");
        }
    }

    #[test]
    fn normalizes_codes() {
        assert_eq!(normalize("IT"), "it");
        assert_eq!(normalize(" sv "), "sv");
        assert_eq!(normalize("ru"), "und");
    }
}
