//! A small multilingual glossary of customer-support vocabulary, to find
//! passages written in another language than the question.
//!
//! Lexical retrieval cannot tell that `archivo`, `fichier` and `file` are the
//! same thing; this table can, for the few hundred words that support
//! questions about software, accounts and billing are made of. A question's
//! stems are looked up in its language's column and the other languages'
//! words of the same concept are added to the query at a lower weight. It is
//! generic on purpose (no product names, no article wording): it must serve
//! any company's help center.

use std::collections::HashMap;
use tantivy::tokenizer::TextAnalyzer;

/// One concept per line; columns in `lang::SUPPORTED` order
/// (en | it | es | fr | de | pt | sv | nl), synonyms separated by commas.
/// Multi-word entries are only ever targets; single words are also keys.
const TABLE: &str = "
account | account | cuenta | compte | Konto | conta | konto | account
password | password | contraseña | mot de passe | Passwort, Kennwort | senha, palavra-passe | lösenord | wachtwoord
login, log in, sign in, signin | accesso, accedere, login | iniciar sesión, acceder, acceso | connexion, connecter | anmelden, Anmeldung, einloggen | login, entrar, acessar | logga in, inloggning | inloggen, aanmelden
logout, log out, sign out | disconnettere, esci, logout | cerrar sesión | déconnexion, déconnecter | abmelden, Abmeldung | sair, terminar sessão | logga ut | uitloggen, afmelden
username | nome utente | nombre de usuario | identifiant, nom d'utilisateur | Benutzername | nome de usuário | användarnamn | gebruikersnaam
email, e-mail, mail | email, e-mail, posta | correo, email | e-mail, courriel, adresse électronique | E-Mail | e-mail, correio | e-post, mejl | e-mail
address | indirizzo | dirección | adresse | Adresse | endereço | adress | adres
profile | profilo | perfil | profil | Profil | perfil | profil | profiel
settings | impostazioni | configuración, ajustes | paramètres, réglages | Einstellungen | configurações, definições | inställningar | instellingen
security | sicurezza | seguridad | sécurité | Sicherheit | segurança | säkerhet | beveiliging, veiligheid
two-factor, 2fa, two-step | due fattori, autenticazione a due fattori, 2fa | dos factores, doble factor, 2fa | double authentification, deux facteurs, 2fa | Zwei-Faktor, 2fa | dois fatores, 2fa | tvåfaktor, 2fa | tweestapsverificatie, twee-factor, 2fa
authentication | autenticazione | autenticación | authentification | Authentifizierung | autenticação | autentisering | authenticatie
verification, verify | verifica, verificare | verificación, verificar | vérification, vérifier | Bestätigung, bestätigen, verifizieren | verificação, verificar | verifiering, verifiera | verificatie, verifiëren
code | codice | código | code | Code | código | kod | code
backup codes, recovery codes | codici di backup, codici di recupero | códigos de respaldo, códigos de recuperación | codes de secours, codes de récupération | Backup-Codes, Wiederherstellungscodes | códigos de backup, códigos de recuperação | reservkoder, återställningskoder | back-upcodes, herstelcodes
authenticator | autenticatore | autenticador | authentificateur | Authenticator | autenticador | autentiserare | authenticator
reset | reimpostare, reimpostazione, resettare | restablecer, restablecimiento | réinitialiser, réinitialisation | zurücksetzen | redefinir, redefinição | återställa | resetten, opnieuw instellen
forgot, forgotten | dimenticato, dimenticata | olvidé, olvidado, olvidada | oublié | vergessen | esqueci, esquecida | glömt | vergeten
locked, blocked | bloccato | bloqueado, bloqueada | bloqué | gesperrt | bloqueado, bloqueada | låst, spärrad | geblokkeerd, vergrendeld
session, sessions | sessione | sesión | session | Sitzung | sessão | session | sessie
device | dispositivo | dispositivo | appareil | Gerät | dispositivo | enhet | apparaat
browser | browser | navegador | navigateur | Browser | navegador | webbläsare | browser
single sign-on, sso, saml | single sign-on, sso, saml | inicio de sesión único, sso, saml | authentification unique, sso, saml | Single Sign-On, sso, saml | login único, sso, saml | enkel inloggning, sso, saml | single sign-on, sso, saml
file, files | file | archivo, fichero | fichier | Datei | arquivo, ficheiro | fil | bestand
folder | cartella | carpeta | dossier | Ordner | pasta | mapp | map
document | documento | documento | document | Dokument | documento | dokument | document
photo, picture | foto | foto | photo | Foto | foto | foto, bild | foto
upload | caricare, caricamento, upload | subir, cargar | téléverser, charger, importer | hochladen | carregar, enviar, upload | ladda upp | uploaden
download | scaricare, download | descargar | télécharger | herunterladen | baixar, transferir | ladda ner | downloaden
sync, synchronization | sincronizzazione, sincronizzare | sincronización, sincronizar | synchronisation, synchroniser | Synchronisierung, synchronisieren | sincronização, sincronizar | synkronisering, synkronisera | synchronisatie, synchroniseren
share, sharing, shared | condividere, condivisione, condiviso | compartir, compartido | partager, partage, partagé | teilen, freigeben, Freigabe | compartilhar, partilhar | dela, delning | delen, gedeeld
link | link, collegamento | enlace, vínculo | lien | Link | link, ligação | länk | link
expire, expiry, expiration, expires | scadenza, scadere, scade | caducar, caducidad, expiración, vencimiento | expiration, expirer, expire | ablaufen, Ablauf | expirar, expiração | upphöra, utgå | verlopen, vervaldatum
delete, deleted, remove, erase | eliminare, eliminato, cancellare, cancellato | eliminar, borrar, borrado | supprimer, supprimé, effacer | löschen, gelöscht | excluir, apagar, eliminar | radera, ta bort | verwijderen
restore, recover, recovery, undelete | ripristinare, recuperare, ripristino | restaurar, recuperar | restaurer, récupérer | wiederherstellen | restaurar, recuperar | återställa | herstellen
trash, bin | cestino | papelera | corbeille | Papierkorb | lixeira, lixo | papperskorg | prullenbak
version, versions | versione | versión | version | Version | versão | version | versie
history | cronologia, storico | historial | historique | Verlauf, Historie | histórico | historik | geschiedenis
previous, older, earlier | precedente | anterior | précédent, ancienne | vorherige, ältere | anterior | tidigare | vorige, eerdere
backup | backup, copia di sicurezza | copia de seguridad, respaldo | sauvegarde | Sicherung, Backup | backup, cópia de segurança | säkerhetskopia | back-up, reservekopie
copy | copia | copia | copie | Kopie | cópia | kopia | kopie
move | spostare | mover | déplacer | verschieben | mover | flytta | verplaatsen
rename | rinominare | renombrar, cambiar nombre | renommer | umbenennen | renomear | byta namn | hernoemen
storage, space | spazio, archiviazione | almacenamiento, espacio | stockage, espace | Speicher, Speicherplatz | armazenamento, espaço | lagring, lagringsutrymme | opslag, opslagruimte
quota, limit, limits | limite, quota | límite, cuota | limite, quota | Limit, Kontingent, Grenze | limite, cota | gräns, kvot | limiet
size | dimensione | tamaño | taille | Größe | tamanho | storlek | grootte
full | pieno | lleno | plein | voll | cheio | full | vol
offline | offline, senza connessione | sin conexión, offline | hors ligne | offline | offline, sem ligação | offline | offline
preview | anteprima | vista previa | aperçu | Vorschau | pré-visualização | förhandsvisning | voorbeeld
search | cercare, ricerca | buscar, búsqueda | rechercher, recherche | suchen, Suche | pesquisar, procurar | söka, sökning | zoeken
export | esportare, esportazione | exportar, exportación | exporter, exportation, export | exportieren, Export | exportar, exportação | exportera, export | exporteren, export
import | importare | importar | importer | importieren | importar | importera | importeren
archive | archivio | archivo comprimido, zip | archive | Archiv | arquivo zip | arkiv | archief
team | team, squadra | equipo | équipe | Team | equipa, equipe | team | team
member, members | membro | miembro | membre | Mitglied | membro | medlem | lid, leden
user, users | utente | usuario | utilisateur | Benutzer, Nutzer | usuário, utilizador | användare | gebruiker
invite, invitation | invitare, invito | invitar, invitación | inviter, invitation | einladen, Einladung | convidar, convite | bjuda in, inbjudan | uitnodigen, uitnodiging
owner, ownership | proprietario, proprietà | propietario, propiedad | propriétaire, propriété | Eigentümer, Inhaber | proprietário, propriedade | ägare, ägarskap | eigenaar, eigendom
transfer | trasferire, trasferimento | transferir, transferencia | transférer, transfert | übertragen, Übertragung | transferir, transferência | överföra, överlåta | overdragen, overdracht
role | ruolo | rol | rôle | Rolle | função, papel | roll | rol
admin, administrator | amministratore, admin | administrador, admin | administrateur, admin | Administrator, Admin | administrador, admin | administratör, admin | beheerder, admin
permission, permissions, access | permesso, autorizzazione, accesso | permiso, acceso | permission, droit, accès | Berechtigung, Zugriff | permissão, acesso | behörighet, åtkomst | machtiging, toegang
guest, external | ospite, esterno | invitado, externo | invité, externe | Gast, extern | convidado, externo | gäst, extern | gast, extern
colleague, coworker | collega | compañero, compañera, colega | collègue | Kollege, Kollegin | colega | kollega | collega
company, organization, business | azienda, organizzazione, società | empresa, organización | entreprise, organisation, société | Unternehmen, Firma, Organisation | empresa, organização | företag, organisation | bedrijf, organisatie
plan, plans | piano | plan | forfait, offre, plan | Tarif, Plan | plano | abonnemang, plan | abonnement, plan
subscription | abbonamento | suscripción | abonnement | Abonnement, Abo | assinatura, subscrição | prenumeration, abonnemang | abonnement
price, prices, pricing, cost | prezzo, costo | precio, coste, costo | prix, tarif, coût | Preis, Kosten | preço, custo | pris, kostnad | prijs, kosten
pay, payment | pagare, pagamento | pagar, pago | payer, paiement | bezahlen, Zahlung | pagar, pagamento | betala, betalning | betalen, betaling
card, credit card | carta, carta di credito | tarjeta, tarjeta de crédito | carte, carte bancaire, carte de crédit | Karte, Kreditkarte | cartão, cartão de crédito | kort, kreditkort | kaart, creditcard
invoice, invoices | fattura | factura | facture | Rechnung | fatura | faktura | factuur
receipt | ricevuta | recibo | reçu | Quittung, Beleg | recibo | kvitto | kwitantie, bon
vat, tax | iva, imposta | iva, impuesto | tva, taxe | MwSt, Mehrwertsteuer, Steuer | iva, imposto | moms, skatt | btw, belasting
refund | rimborso, rimborsare | reembolso, reembolsar, devolución, devolver | remboursement, rembourser | Erstattung, Rückerstattung, erstatten | reembolso, reembolsar | återbetalning | terugbetaling, restitutie
money | soldi, denaro | dinero | argent | Geld | dinheiro | pengar | geld
charge, charged | addebito, addebitare | cargo, cobro, cobrar | prélèvement, débiter, facturer | Belastung, abbuchen | cobrança, cobrar | debitera, dragning | afschrijving, in rekening
cancel, cancellation | disdire, disdetta, annullare | cancelar, cancelación, dar de baja | annuler, résilier, résiliation | kündigen, Kündigung, stornieren | cancelar, cancelamento | avsluta, säga upp, uppsägning | opzeggen, annuleren
upgrade | upgrade, passare a un piano superiore | mejorar, subir de plan | passer à l'offre supérieure, mise à niveau | upgraden, Upgrade | upgrade, atualizar o plano | uppgradera | upgraden
downgrade | downgrade, piano inferiore | bajar de plan | rétrograder, passer à l'offre inférieure | downgraden, Downgrade | downgrade | nedgradera | downgraden
change, modify | cambiare, modificare | cambiar, modificar | changer, modifier | ändern, wechseln | alterar, mudar | ändra, byta | wijzigen, veranderen
trial | prova, periodo di prova | prueba, periodo de prueba | essai, période d'essai | Testversion, Testphase | avaliação, teste | provperiod, testperiod | proefperiode
free | gratis, gratuito | gratis, gratuito | gratuit | kostenlos, gratis | grátis, gratuito | gratis | gratis
discount | sconto | descuento | remise, réduction | Rabatt | desconto | rabatt | korting
student, students | studente | estudiante | étudiant | Student, Studenten | estudante | student | student
education, school, university | istruzione, scuola, università | educación, escuela, universidad | éducation, école, université | Bildung, Schule, Universität | educação, escola, universidade | utbildning, skola, universitet | onderwijs, school, universiteit
nonprofit, non-profit, charity | non profit, onlus, associazione | sin ánimo de lucro, ong, asociación | association, but non lucratif | gemeinnützig, Verein | sem fins lucrativos, ong | ideell, välgörenhet | non-profit, goed doel
annual, yearly, year | annuale, anno | anual, año | annuel, an, année | jährlich, Jahr | anual, ano | årlig, år | jaarlijks, jaar
monthly, month | mensile, mese | mensual, mes | mensuel, mois | monatlich, Monat | mensal, mês | månatlig, månad | maandelijks, maand
week | settimana | semana | semaine | Woche | semana | vecka | week
day, days | giorno | día | jour | Tag | dia | dag | dag
hour, hours | ora, ore | hora | heure | Stunde | hora | timme | uur
minute, minutes | minuto | minuto | minute | Minute | minuto | minut | minuut
billing | fatturazione | facturación | facturation | Abrechnung | faturação, faturamento | fakturering | facturering
seat, licence, license | postazione, licenza | licencia, puesto | licence, siège | Lizenz | licença | licens | licentie
renewal, renew | rinnovo, rinnovare | renovación, renovar | renouvellement, renouveler | Verlängerung, verlängern | renovação, renovar | förnyelse, förnya | verlenging, verlengen
failed, declined | fallito, rifiutato | fallido, rechazado | échoué, refusé | fehlgeschlagen, abgelehnt | falhou, recusado | misslyckad, nekad | mislukt, geweigerd
bank | banca, bancario, bonifico | banco, transferencia bancaria | banque, virement | Bank, Überweisung | banco, transferência bancária | bank, banköverföring | bank, overschrijving
support | assistenza, supporto | soporte, asistencia | support, assistance | Support, Kundendienst | suporte, apoio | support, kundtjänst | ondersteuning, support
help | aiuto | ayuda | aide | Hilfe | ajuda | hjälp | hulp
contact | contattare, contatto | contactar, contacto | contacter, contact | kontaktieren, Kontakt | contactar, contato | kontakta, kontakt | contact, contact opnemen
chat | chat | chat | chat, messagerie | Chat | chat | chatt | chat
phone, telephone, call | telefono, chiamare | teléfono, llamar | téléphone, appeler | Telefon, anrufen | telefone, ligar | telefon, ringa | telefoon, bellen
mobile, smartphone | cellulare, smartphone, mobile | móvil, celular | portable, mobile, smartphone | Handy, Smartphone, mobil | telemóvel, celular | mobil, mobiltelefon | mobiel, smartphone
opening hours, open | orari, aperto | horario, abierto | horaires, ouvert | Öffnungszeiten, geöffnet | horário, aberto | öppettider, öppen | openingstijden, open
weekend | fine settimana, weekend | fin de semana | week-end | Wochenende | fim de semana | helg | weekend
response, reply, answer | risposta | respuesta | réponse | Antwort | resposta | svar | antwoord
human, person, agent, operator | persona, operatore | persona, agente | personne, conseiller, humain | Mensch, Mitarbeiter | pessoa, atendente | människa, person | mens, medewerker
outage, downtime | interruzione, disservizio | caída, interrupción | panne, interruption | Ausfall, Störung | interrupção, falha | avbrott, driftstopp | storing, uitval
status | stato | estado | statut, état | Status | estado | status | status
incident | incidente | incidente | incident | Vorfall | incidente | incident | incident
uptime, availability | disponibilità, uptime | disponibilidad | disponibilité | Verfügbarkeit | disponibilidade | tillgänglighet | beschikbaarheid
maintenance | manutenzione | mantenimiento | maintenance | Wartung | manutenção | underhåll | onderhoud
credit, credits, compensation | credito, crediti, compensazione | crédito, compensación | crédit, avoir, compensation | Gutschrift, Entschädigung | crédito, compensação | kredit, ersättning | tegoed, compensatie
notification, alert | notifica, avviso | notificación, aviso | notification, alerte | Benachrichtigung | notificação, alerta | avisering, notis | melding, notificatie
update, updates | aggiornamento, aggiornare | actualización, actualizar | mise à jour | Aktualisierung, Update | atualização | uppdatering | update, bijwerken
api | api | api | api | api | api | api | api
key, keys | chiave | clave | clé | Schlüssel | chave | nyckel | sleutel
token | token | token | jeton | Token | token | token | token
request, requests | richiesta | solicitud, petición | requête, demande | Anfrage | pedido, solicitação | begäran, förfrågan | verzoek, aanvraag
rate limit, throttling | limite di frequenza | límite de velocidad | limitation de débit | Ratenbegrenzung | limite de taxa | hastighetsbegränsning | snelheidslimiet
error | errore | error | erreur | Fehler | erro | fel | fout
integration, integrations, connected | integrazione, collegato | integración, conectado | intégration, connecté | Integration, verbunden | integração, conectado | integration, ansluten | integratie, gekoppeld
app, application | app, applicazione | aplicación, app | application, appli | App, Anwendung | aplicação, aplicativo, app | app, applikation | app, applicatie
desktop, computer | desktop, computer | escritorio, ordenador, computadora | ordinateur, bureau | Desktop, Computer | computador, desktop | dator, skrivbord | computer, desktop
install, installation | installare, installazione | instalar, instalación | installer, installation | installieren, Installation | instalar, instalação | installera, installation | installeren, installatie
requirements, system requirements | requisiti | requisitos | configuration requise, prérequis | Systemanforderungen, Anforderungen | requisitos | systemkrav, krav | systeemvereisten, vereisten
encryption, encrypted | crittografia, cifratura, crittografato | cifrado, encriptación | chiffrement, chiffré | Verschlüsselung, verschlüsselt | criptografia, encriptação | kryptering, krypterad | versleuteling, versleuteld
data | dati | datos | données | Daten | dados | data, uppgifter | gegevens, data
region, location | regione | región | région | Region | região | region | regio
data centre, data center, server | data center, server | centro de datos, servidor | centre de données, serveur | Rechenzentrum, Server | centro de dados, servidor | datacenter, server | datacenter, server
country | paese | país | pays | Land | país | land | land
privacy | privacy, riservatezza | privacidad | confidentialité, vie privée | Datenschutz | privacidade | integritet | privacy
gdpr | gdpr | rgpd | rgpd | dsgvo | rgpd, lgpd | gdpr | avg
close, closing | chiudere, chiusura | cerrar, cierre | fermer, fermeture, clôturer | schließen | encerrar, fechar | stänga | sluiten, opheffen
audit, log, logs | audit, registro | auditoría, registro | audit, journal | Audit, Protokoll | auditoria, registo | granskning, logg | audit, logboek
activity | attività | actividad | activité | Aktivität | atividade | aktivitet | activiteit
retention, retain, kept, keep | conservazione, conservare | conservación, conservar, retención | conservation, conserver | Aufbewahrung, aufbewahren | retenção, conservar | lagras, behålla | bewaartermijn, bewaren
how long, duration, long | quanto tempo, durata | cuánto tiempo, duración | combien de temps, durée | wie lange, Dauer | quanto tempo, duração | hur länge, längd | hoe lang, duur
how many, number | quanti, quante, numero | cuántos, cuántas, número | combien, nombre | wie viele, Anzahl | quantos, quantas, número | hur många, antal | hoeveel, aantal
maximum, max | massimo | máximo | maximum | Maximum, höchstens | máximo | max, maximalt | maximum
minimum, min | minimo | mínimo | minimum | Minimum, mindestens | mínimo | minst | minimum
allowed, permitted | consentito | permitido | autorisé | erlaubt | permitido | tillåtet | toegestaan
problem, issue | problema | problema | problème | Problem | problema | problem | probleem
not working, broken | non funziona | no funciona | ne fonctionne pas | funktioniert nicht | não funciona | fungerar inte | werkt niet
slow | lento | lento | lent | langsam | lento | långsam | traag
stuck | bloccato | atascado | bloqué | hängt | travado | fastnat | vastgelopen
public | pubblico | público | public | öffentlich | público | offentlig | openbaar
protect, protected | proteggere, protetto | proteger, protegido | protéger, protégé | schützen, geschützt | proteger, protegido | skydda, skyddad | beveiligen, beschermd
file request, collect files | richiesta di file, raccogliere file | solicitar archivos, solicitud de archivos | demande de fichiers | Dateianfrage | pedido de ficheiros | filbegäran | bestandsverzoek
receive | ricevere | recibir | recevoir | erhalten, empfangen | receber | ta emot | ontvangen
send | inviare | enviar | envoyer | senden | enviar | skicka | sturen, verzenden
windows | windows | windows | windows | windows | windows | windows | windows
mac, macos | mac, macos | mac, macos | mac, macos | mac, macos | mac, macos | mac, macos | mac, macos
linux | linux | linux | linux | linux | linux | linux | linux
iphone, ios | iphone, ios | iphone, ios | iphone, ios | iphone, ios | iphone, ios | iphone, ios | iphone, ios
android | android | android | android | android | android | android | android
tablet | tablet | tableta | tablette | Tablet | tablet | surfplatta | tablet
";

/// Stems of each concept per language, and the concepts of each stem.
pub(crate) struct Glossary {
    /// concept -> language -> stems of its words
    concepts: Vec<Vec<Vec<String>>>,
    /// (language, stem) -> concepts where that stem is a whole entry
    keys: HashMap<(usize, String), Vec<usize>>,
}

impl Glossary {
    /// Builds the glossary with the analyzers it will be matched with
    /// (`analyzers[i]` for language `i` of `lang::SUPPORTED`).
    pub(crate) fn new(analyzers: &[TextAnalyzer]) -> Glossary {
        let mut concepts = Vec::new();
        let mut keys: HashMap<(usize, String), Vec<usize>> = HashMap::new();
        for line in TABLE.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let id = concepts.len();
            let mut per_lang = vec![Vec::new(); analyzers.len()];
            for (l, column) in line.split('|').enumerate().take(analyzers.len()) {
                for entry in column.split(',').map(str::trim).filter(|e| !e.is_empty()) {
                    let stems = super::tokens(&analyzers[l], entry);
                    if let [single] = stems.as_slice() {
                        let ids = keys.entry((l, single.clone())).or_default();
                        if !ids.contains(&id) {
                            ids.push(id);
                        }
                    }
                    for s in stems {
                        if !per_lang[l].contains(&s) {
                            per_lang[l].push(s);
                        }
                    }
                }
            }
            concepts.push(per_lang);
        }
        Glossary { concepts, keys }
    }

    /// The other languages' stems for a stem of language `lang`: (language, stem).
    pub(crate) fn translations(&self, lang: usize, stem: &str) -> Vec<(usize, &str)> {
        let mut out = Vec::new();
        let Some(ids) = self.keys.get(&(lang, stem.to_owned())) else { return out };
        for &id in ids {
            for (l, stems) in self.concepts[id].iter().enumerate() {
                if l == lang {
                    continue;
                }
                for s in stems {
                    out.push((l, s.as_str()));
                }
            }
        }
        out
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.concepts.len()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn translates_stems_between_languages() {
        let analyzers = super::super::Analyzers::new();
        let g = &analyzers.glossary;
        assert!(g.len() > 150);
        // es "papelera" -> en "trash", it "cestino"…
        let papelera = super::super::tokens(&analyzers.stemmed[2], "papelera").remove(0);
        let out = g.translations(2, &papelera);
        assert!(out.contains(&(0, "trash")), "{out:?}");
        assert!(out.iter().any(|(l, s)| *l == 1 && s.starts_with("cestin")), "{out:?}");
        assert!(out.iter().all(|(l, _)| *l != 2), "not its own language");
        assert!(g.translations(0, "zzzz").is_empty());
    }

    #[test]
    fn every_line_has_all_languages() {
        for line in super::TABLE.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let cols: Vec<&str> = line.split('|').collect();
            assert_eq!(cols.len(), 8, "{line}");
            assert!(cols.iter().all(|c| !c.trim().is_empty()), "{line}");
        }
    }
}
