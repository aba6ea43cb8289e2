"""Word lists the tenant generator draws from: Central-European people, places, employers and RECRU lookups.

Plain data only. Long lists are written as text and split (``_words`` on whitespace, ``_phrases`` on ``;``) so
they stay readable; surnames are ``(male, female)`` pairs written ``Novák/Nováková`` because Czech, Slovak and
Polish surnames change with gender. Companies and tenants are invented; the e-mail providers are real public ones
(the emulator never sends mail).
"""

from __future__ import annotations

from typing import NamedTuple


def _words(text: str) -> tuple[str, ...]:
    """Whitespace-separated single words."""
    return tuple(text.split())


def _phrases(text: str) -> tuple[str, ...]:
    """``;``-separated phrases that may contain spaces (runs of whitespace, line breaks included, become one space)."""
    return tuple(" ".join(part.split()) for part in text.split(";"))


def _surnames(text: str) -> tuple[tuple[str, str], ...]:
    """``male/female`` surname pairs; a surname without ``/`` is the same for both."""
    pairs = (word.split("/") for word in text.split())
    return tuple((pair[0], pair[-1]) for pair in pairs)


class Country(NamedTuple):
    """The words one country contributes to jobseekers."""

    code: str
    male_first: tuple[str, ...]
    female_first: tuple[str, ...]
    surnames: tuple[tuple[str, str], ...]
    cities: tuple[tuple[str, str, str], ...]  # (city, postal code, region)
    streets: tuple[str, ...]
    mail_domains: tuple[str, ...]
    mobile_formats: tuple[str, ...]  # "#" stands for a random digit
    landline_formats: tuple[str, ...]
    house_formats: tuple[str, ...]  # placeholders {big}, {small}, {door}
    titles_before: tuple[str, ...]
    titles_after: tuple[str, ...]
    title_share: float  # how many people carry a title before the name
    currency: str
    positions: tuple[str, ...]


CZ = Country(
    code="CZ",
    male_first=_words("""
        Jan Petr Jiří Josef Pavel Martin Tomáš Jaroslav Miroslav Zdeněk Václav Michal František Jakub Milan Karel
        Lukáš David Ondřej Vojtěch Matěj Radek Aleš Filip Štěpán Dominik
    """),
    female_first=_words("""
        Jana Marie Eva Hana Anna Lenka Kateřina Lucie Věra Alena Petra Veronika Jaroslava Tereza Martina Michaela
        Zdeňka Ludmila Jitka Barbora Klára Šárka Markéta Adéla Eliška Simona
    """),
    surnames=_surnames("""
        Novák/Nováková Dvořák/Dvořáková Svoboda/Svobodová Novotný/Novotná Černý/Černá Procházka/Procházková
        Kučera/Kučerová Veselý/Veselá Horák/Horáková Němec/Němcová Marek/Marková Pospíšil/Pospíšilová
        Pokorný/Pokorná Hájek/Hájková Král/Králová Jelínek/Jelínková Růžička/Růžičková Beneš/Benešová
        Fiala/Fialová Sedláček/Sedláčková Doležal/Doležalová Zeman/Zemanová Kolář/Kolářová Navrátil/Navrátilová
        Čermák/Čermáková Vaněk/Vaňková Urban/Urbanová Blažek/Blažková Kříž/Křížová Kovář/Kovářová
        Bartoš/Bartošová Vlček/Vlčková Polák/Poláková Musil/Musilová Šimek/Šimková Konečný/Konečná Malý/Malá
        Holub/Holubová Štěpánek/Štěpánková Kadlec/Kadlecová Říha/Říhová Šťastný/Šťastná Žák/Žáková Mach/Machová
    """),
    cities=(
        ("Praha", "110 00", "Hlavní město Praha"),
        ("Praha", "186 00", "Hlavní město Praha"),
        ("Praha", "140 00", "Hlavní město Praha"),
        ("Brno", "602 00", "Jihomoravský kraj"),
        ("Ostrava", "702 00", "Moravskoslezský kraj"),
        ("Plzeň", "301 00", "Plzeňský kraj"),
        ("Liberec", "460 01", "Liberecký kraj"),
        ("Olomouc", "779 00", "Olomoucký kraj"),
        ("České Budějovice", "370 01", "Jihočeský kraj"),
        ("Hradec Králové", "500 02", "Královéhradecký kraj"),
        ("Ústí nad Labem", "400 01", "Ústecký kraj"),
        ("Pardubice", "530 02", "Pardubický kraj"),
        ("Zlín", "760 01", "Zlínský kraj"),
        ("Jihlava", "586 01", "Kraj Vysočina"),
        ("Karlovy Vary", "360 01", "Karlovarský kraj"),
        ("Kladno", "272 01", "Středočeský kraj"),
    ),
    streets=_phrases("""
        Vinohradská; Národní; Masarykova; Husova; Nádražní; Palackého; Komenského; Žižkova; Smetanova; Jiráskova;
        Štefánikova; Dělnická; Školní; Zahradní; Květná; U Potoka; Na Příkopě; Třída Kpt. Jaroše
    """),
    mail_domains=_words("seznam.cz email.cz centrum.cz gmail.com post.cz volny.cz outlook.com"),
    mobile_formats=("+420 6## ### ###", "+420 7## ### ###", "+4207########", "+420 608 ### ###"),
    landline_formats=("+420 2## ### ###", "+420 5## ### ###", "+420 3## ### ###"),
    house_formats=("{big}/{small}", "{big}/{small}", "{small}"),
    titles_before=_phrases("Ing.; Ing.; Ing.; Mgr.; Mgr.; Bc.; Bc.; MUDr.; JUDr.; PhDr.; RNDr.; Ing. arch."),
    titles_after=_phrases("Ph.D.; MBA; CSc.; DiS."),
    title_share=0.3,
    currency="CZK",
    positions=_phrases("""
        Vývojář Java; Účetní; Projektový manažer; Obchodní zástupce; Mzdová účetní; Skladník; Technik údržby;
        Personalista; Asistentka ředitele; Vedoucí směny; Konstruktér; Analytik dat; Zákaznický specialista;
        Elektrikář; Řidič skupiny C; Controller; Nákupčí
    """),
)

SK = Country(
    code="SK",
    male_first=_words("""
        Peter Ján Jozef Michal Martin Tomáš Marek Lukáš Juraj Ľubomír Štefan Miroslav Pavol Dušan Ondrej Matúš
        Branislav Róbert Vladimír Ľuboš Igor
    """),
    female_first=_words("""
        Mária Anna Zuzana Katarína Eva Jana Lucia Martina Ľudmila Monika Veronika Simona Andrea Ivana Dominika
        Petra Barbora Michaela Natália Soňa Kristína
    """),
    surnames=_surnames("""
        Kováč/Kováčová Horváth/Horváthová Varga/Vargová Tóth/Tóthová Nagy/Nagyová Baláž/Balážová Szabó/Szabóová
        Molnár/Molnárová Lukáč/Lukáčová Kollár/Kollárová Hudák/Hudáková Oravec/Oravcová Šimko/Šimková
        Krajčí/Krajčiová Ďurica/Ďuricová Gašpar/Gašparová Kučera/Kučerová Ľupták/Ľuptáková Lacko/Lacková
        Ševčík/Ševčíková Bielik/Bieliková Kráľ/Kráľová Čierny/Čierna Mikuš/Mikušová Zajac/Zajacová
        Hrnčiar/Hrnčiarová
    """),
    cities=(
        ("Bratislava", "811 01", "Bratislavský kraj"),
        ("Bratislava", "821 08", "Bratislavský kraj"),
        ("Košice", "040 01", "Košický kraj"),
        ("Prešov", "080 01", "Prešovský kraj"),
        ("Žilina", "010 01", "Žilinský kraj"),
        ("Nitra", "949 01", "Nitriansky kraj"),
        ("Banská Bystrica", "974 01", "Banskobystrický kraj"),
        ("Trnava", "917 01", "Trnavský kraj"),
        ("Trenčín", "911 01", "Trenčiansky kraj"),
        ("Poprad", "058 01", "Prešovský kraj"),
    ),
    streets=_phrases("""
        Hlavná; Štúrova; Obchodná; Námestie SNP; Mierová; Hurbanova; Ružová; Záhradnícka; Šafárikova; Dlhá;
        Kpt. Nálepku; Ľudovíta Štúra
    """),
    mail_domains=_words("azet.sk zoznam.sk gmail.com centrum.sk post.sk outlook.com"),
    mobile_formats=("+421 9## ### ###", "+4219########", "+421 905 ### ###"),
    landline_formats=("+421 2 #### ####", "+421 55 ### ####"),
    house_formats=("{big}/{small}", "{small}"),
    titles_before=_phrases("Ing.; Ing.; Mgr.; Mgr.; Bc.; MUDr.; JUDr.; PhDr."),
    titles_after=_phrases("PhD.; MBA; CSc."),
    title_share=0.3,
    currency="EUR",
    positions=_phrases("""
        Programátor; Účtovníčka; Projektový manažér; Obchodný zástupca; Skladník; Operátor výroby; Personalistka;
        Technik kvality; Zákaznícka podpora; Vodič; Finančný analytik
    """),
)

DE = Country(
    code="DE",
    male_first=_words("""
        Thomas Michael Andreas Stefan Christian Markus Daniel Tobias Jürgen Jörg Lukas Maximilian Felix Jonas
        Sebastian Florian Matthias Uwe Björn Niklas
    """),
    female_first=_words("""
        Anna Julia Katharina Sabine Stefanie Sandra Laura Lena Sarah Claudia Andrea Ursula Gisela Bärbel Hannah
        Marie Sophie Lea Annika Miriam Jördis
    """),
    surnames=_surnames("""
        Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter
        Klein Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hartmann Lange Werner Krause Lehmann Köhler
        Böhm Groß Jäger Weiß Günther Vogel Fuchs Kühn Brückner Maaß
    """),
    cities=(
        ("Berlin", "10115", "Berlin"),
        ("München", "80331", "Bayern"),
        ("Hamburg", "20095", "Hamburg"),
        ("Köln", "50667", "Nordrhein-Westfalen"),
        ("Frankfurt am Main", "60311", "Hessen"),
        ("Stuttgart", "70173", "Baden-Württemberg"),
        ("Düsseldorf", "40213", "Nordrhein-Westfalen"),
        ("Leipzig", "04109", "Sachsen"),
        ("Dresden", "01067", "Sachsen"),
        ("Nürnberg", "90402", "Bayern"),
        ("Görlitz", "02826", "Sachsen"),
        ("Regensburg", "93047", "Bayern"),
    ),
    streets=_phrases("""
        Hauptstraße; Bahnhofstraße; Schillerstraße; Goethestraße; Gartenstraße; Lindenallee; Kirchweg; Mühlenweg;
        Am Marktplatz; Friedrichstraße; Schloßstraße; Königsallee
    """),
    mail_domains=_words("gmx.de web.de t-online.de gmail.com posteo.de outlook.de"),
    mobile_formats=("+49 151 ########", "+49 160 #######", "+49 176 ########", "+49172#######"),
    landline_formats=("+49 30 ########", "+49 89 #######", "+49 40 #######", "+49 221 ######"),
    house_formats=("{small}", "{small}", "{small}a"),
    titles_before=_phrases("Dr.; Dr.; Dipl.-Ing.; Prof. Dr."),
    titles_after=_phrases("MBA; LL.M."),
    title_share=0.06,
    currency="EUR",
    positions=_phrases("""
        Softwareentwickler; Buchhalterin; Projektleiter; Vertriebsmitarbeiter; Fachkraft für Lagerlogistik;
        Industriemechaniker; Personalreferentin; Teamleiter Kundenservice; Elektroniker; Controller; Einkäuferin;
        Data Engineer
    """),
)

AT = Country(
    code="AT",
    male_first=_words("""
        Florian Lukas David Tobias Stefan Wolfgang Markus Johann Franz Georg Andreas Bernhard Elias Jakob Paul
        Raphael Christoph Gerhard Günter
    """),
    female_first=_words("""
        Anna Lena Sophie Katharina Elisabeth Johanna Theresa Verena Birgit Sabine Magdalena Christina Hannah
        Valentina Marlene Jasmin Lea
    """),
    surnames=_surnames("""
        Gruber Huber Bauer Wagner Müller Pichler Steiner Moser Mayer Hofer Leitner Berger Fuchs Eder Fischer
        Schmid Winkler Weber Schwarz Maier Reiter Mayr Wimmer Egger Brunner Lang Baumgartner Auer Binder Lechner
        Wallner Aigner Ebner Koller Haas Pöll Höller Strauß
    """),
    cities=(
        ("Wien", "1010", "Wien"),
        ("Wien", "1070", "Wien"),
        ("Wien", "1100", "Wien"),
        ("Graz", "8010", "Steiermark"),
        ("Linz", "4020", "Oberösterreich"),
        ("Salzburg", "5020", "Salzburg"),
        ("Innsbruck", "6020", "Tirol"),
        ("Klagenfurt am Wörthersee", "9020", "Kärnten"),
        ("St. Pölten", "3100", "Niederösterreich"),
        ("Villach", "9500", "Kärnten"),
        ("Wels", "4600", "Oberösterreich"),
    ),
    streets=_phrases("""
        Mariahilfer Straße; Landstraßer Hauptstraße; Herrengasse; Getreidegasse; Hauptplatz; Linzer Gasse;
        Schönbrunner Straße; Grabenweg; Kärntner Ring; Wiedner Gürtel
    """),
    mail_domains=_words("gmx.at aon.at chello.at gmail.com a1.net outlook.com"),
    mobile_formats=("+43 664 #######", "+43 676 #######", "+43 699 ########", "+43650#######"),
    landline_formats=("+43 1 #######", "+43 316 ######", "+43 732 ######"),
    house_formats=("{small}", "{small}/{door}"),
    titles_before=_phrases("Mag.; Mag.; Dipl.-Ing.; Dr.; Ing."),
    titles_after=_phrases("MSc; BA; MBA"),
    title_share=0.12,
    currency="EUR",
    positions=_phrases("""
        Softwareentwicklerin; Bilanzbuchhalter; Projektmanagerin; Verkaufsberater; Lagerarbeiter; Kellner;
        HR-Generalistin; Servicetechniker; Koch; Bürokauffrau
    """),
)

PL = Country(
    code="PL",
    male_first=_words("""
        Piotr Krzysztof Andrzej Tomasz Paweł Michał Marcin Łukasz Grzegorz Jakub Mateusz Kamil Wojciech Maciej
        Rafał Bartłomiej Przemysław Sławomir Jarosław Dawid
    """),
    female_first=_words("""
        Anna Katarzyna Małgorzata Agnieszka Barbara Ewa Krystyna Magdalena Joanna Aleksandra Monika Zofia Natalia
        Justyna Dorota Beata Żaneta Urszula Grażyna Marta
    """),
    surnames=_surnames("""
        Kowalski/Kowalska Wiśniewski/Wiśniewska Kamiński/Kamińska Lewandowski/Lewandowska Zieliński/Zielińska
        Szymański/Szymańska Dąbrowski/Dąbrowska Kozłowski/Kozłowska Jankowski/Jankowska Kwiatkowski/Kwiatkowska
        Piotrowski/Piotrowska Grabowski/Grabowska Pawłowski/Pawłowska Michalski/Michalska Jabłoński/Jabłońska
        Majewski/Majewska Olszewski/Olszewska Jaworski/Jaworska Małecki/Małecka Górski/Górska Rutkowski/Rutkowska
        Nowak Wójcik Kowalczyk Woźniak Mazur Krawczyk Król Wieczorek Wróbel Stępień Sikora Baran Łukasik Żak
    """),
    cities=(
        ("Warszawa", "00-001", "mazowieckie"),
        ("Warszawa", "02-495", "mazowieckie"),
        ("Kraków", "30-001", "małopolskie"),
        ("Łódź", "90-001", "łódzkie"),
        ("Wrocław", "50-001", "dolnośląskie"),
        ("Poznań", "60-001", "wielkopolskie"),
        ("Gdańsk", "80-001", "pomorskie"),
        ("Katowice", "40-001", "śląskie"),
        ("Szczecin", "70-001", "zachodniopomorskie"),
        ("Bielsko-Biała", "43-300", "śląskie"),
    ),
    streets=_phrases("""
        ul. Marszałkowska; ul. Długa; ul. Floriańska; ul. Piotrkowska; ul. Świętokrzyska; ul. Mickiewicza;
        ul. Słowackiego; ul. Kościuszki; al. Jerozolimskie; ul. Żeromskiego
    """),
    mail_domains=_words("wp.pl onet.pl o2.pl interia.pl gmail.com op.pl"),
    mobile_formats=("+48 5## ### ###", "+48 6## ### ###", "+48 7## ### ###", "+48501######"),
    landline_formats=("+48 22 ### ## ##", "+48 12 ### ## ##"),
    house_formats=("{small}", "{small}/{door}"),
    titles_before=_phrases("dr; mgr inż.; inż.; mgr"),
    titles_after=("MBA",),
    title_share=0.08,
    currency="PLN",
    positions=_phrases("""
        Programista Java; Księgowa; Kierownik projektu; Przedstawiciel handlowy; Magazynier; Specjalista ds. kadr;
        Kierowca; Inżynier jakości; Analityk finansowy; Operator maszyn
    """),
)

HU = Country(
    code="HU",
    male_first=_words("""
        László István József János Zoltán Sándor Gábor Ferenc Attila Péter Tamás Zsolt Tibor András Csaba Imre
        Bence Máté Dániel Ádám Levente
    """),
    female_first=_words("""
        Mária Erzsébet Katalin Éva Ilona Anna Zsuzsanna Margit Judit Ágnes Andrea Erika Krisztina Eszter Zsófia
        Réka Dóra Lili Hanna Boglárka Noémi
    """),
    surnames=_surnames("""
        Nagy Kovács Tóth Szabó Horváth Varga Kiss Molnár Németh Farkas Balogh Papp Takács Juhász Lakatos
        Mészáros Oláh Simon Rácz Fekete Szilágyi Török Fehér Balázs Gál Szűcs Kocsis Pintér Fodor Szalai Sipos
        Bíró Király Hegedűs Szőke Vörös Pásztor
    """),
    cities=(
        ("Budapest", "1051", "Budapest"),
        ("Budapest", "1117", "Budapest"),
        ("Debrecen", "4024", "Hajdú-Bihar"),
        ("Szeged", "6720", "Csongrád-Csanád"),
        ("Miskolc", "3525", "Borsod-Abaúj-Zemplén"),
        ("Pécs", "7621", "Baranya"),
        ("Győr", "9021", "Győr-Moson-Sopron"),
        ("Nyíregyháza", "4400", "Szabolcs-Szatmár-Bereg"),
        ("Kecskemét", "6000", "Bács-Kiskun"),
        ("Székesfehérvár", "8000", "Fejér"),
    ),
    streets=_phrases("""
        Andrássy út; Váci utca; Kossuth Lajos utca; Petőfi Sándor utca; Rákóczi út; Dózsa György út;
        Széchenyi tér; Bartók Béla út; Árpád fejedelem útja
    """),
    mail_domains=_words("freemail.hu citromail.hu gmail.com t-online.hu outlook.hu"),
    mobile_formats=("+36 20 ### ####", "+36 30 ### ####", "+36 70 ### ####", "+3630#######"),
    landline_formats=("+36 1 ### ####", "+36 52 ### ###"),
    house_formats=("{small}.", "{small}. {door}. ajtó"),
    titles_before=_phrases("Dr.; dr."),
    titles_after=_phrases("PhD; MBA"),
    title_share=0.06,
    currency="HUF",
    positions=_phrases("""
        Szoftverfejlesztő; Könyvelő; Projektmenedzser; Értékesítő; Raktáros; Gépkezelő; HR-munkatárs;
        Minőségügyi mérnök; Ügyfélszolgálati munkatárs; Pénzügyi elemző
    """),
)

COUNTRIES: dict[str, Country] = {country.code: country for country in (CZ, SK, DE, AT, PL, HU)}

COUNTRY_NAMES: dict[str, str] = {
    "CZ": "Česko",
    "SK": "Slovensko",
    "DE": "Německo",
    "AT": "Rakousko",
    "PL": "Polsko",
    "HU": "Maďarsko",
}

ENGLISH_POSITIONS = _phrases("""
    Senior Java Developer; Product Owner; Scrum Master; DevOps Engineer; Key Account Manager; UX Designer;
    QA Engineer; Business Analyst; Data Scientist; IT Support Specialist; Frontend Developer (React); Head of Sales
""")

COMPANIES: tuple[tuple[str, str], ...] = (  # (name, e-mail domain)
    ("Vltava Software s.r.o.", "vltava-software.cz"),
    ("Moravská strojírna a.s.", "moravska-strojirna.cz"),
    ("Šumava Logistics s.r.o.", "sumava-logistics.cz"),
    ("Krkonoše Stavby s.r.o.", "krkonose-stavby.cz"),
    ("Brněnské inženýrství s.r.o.", "brnenske-inzenyrstvi.cz"),
    ("Pražská účetní kancelář s.r.o.", "prazska-ucetni.cz"),
    ("Labe Energie a.s.", "labe-energie.cz"),
    ("Tatra Dátové Centrum s.r.o.", "tatra-datove-centrum.sk"),
    ("Dunaj Financie a.s.", "dunaj-financie.sk"),
    ("Považská Výroba s.r.o.", "povazska-vyroba.sk"),
    ("Alpenblick Technik GmbH", "alpenblick-technik.at"),
    ("Wiener Datenwerk GmbH", "wiener-datenwerk.at"),
    ("Donau Handel GmbH", "donau-handel.at"),
    ("Nordlicht Systeme GmbH", "nordlicht-systeme.de"),
    ("Bavaria Präzision AG", "bavaria-praezision.de"),
    ("Bäckerei Jäger & Söhne KG", "baeckerei-jaeger.de"),
    ("Elbtal Versicherung AG", "elbtal-versicherung.de"),
    ("Wisła Logistyka sp. z o.o.", "wisla-logistyka.pl"),
    ("Krakowski Soft sp. z o.o.", "krakowski-soft.pl"),
    ("Bałtyk Energia S.A.", "baltyk-energia.pl"),
    ("Tisza Informatika Kft.", "tisza-informatika.hu"),
    ("Balaton Mérnöki Zrt.", "balaton-mernoki.hu"),
    ("Pannon Szolgáltató Kft.", "pannon-szolgaltato.hu"),
    ("Central Europe Consulting s.r.o.", "ce-consulting.eu"),
)

TENANTS = _words("vltava-group tatra-holding danubia-works moravia-retail pannonia-services sudety-tech")

STAGES: tuple[tuple[str, str, bool], ...] = (  # (name, kind, active), in pipeline order
    ("Nový uchazeč", "regular", True),
    ("Předvýběr", "regular", True),
    ("Telefonický pohovor", "regular", True),
    ("Osobní pohovor", "regular", True),
    ("Odborný test", "regular", True),
    ("Assessment centrum", "regular", False),
    ("Druhé kolo pohovoru", "regular", True),
    ("Reference", "regular", False),
    ("Nabídka", "regular", True),
    ("Přijat", "hired", True),
    ("Zamítnut", "rejected", True),
    ("Uchazeč odstoupil", "rejected", True),
)

TAGS = _phrases("""
    Java; Python; JavaScript; SAP; Excel; Účetnictví; Angličtina C1; Němčina B2; Polština; Maďarština;
    Řidičský průkaz B; Řidičský průkaz C; Vysokozdvižný vozík; Absolvent; Junior; Senior; Vedoucí; Talent pool;
    Top kandidát; Doporučen zaměstnancem; Relokace; Home office; Částečný úvazek; Brigáda; Student;
    Rodičovská dovolená; Návrat do ČR; Ochota cestovat; Bezpečnostní prověrka; Svářeč; Elektro §6; CNC; AutoCAD;
    SolidWorks; Scrum; AWS; Azure; Kubernetes; React; SQL; Power BI; Salesforce; B2B prodej; Call centrum;
    Logistika; Zdravotnictví; Gastronomie; Stavebnictví; Automotive; Pharma; Bankovnictví; Pojišťovnictví;
    Nevhodný; Neoslovovat; Zájem o jinou pozici; Přeposlat manažerovi; Veletrh 2024; Veletrh 2025;
    Kontaktovat znovu; Zahraniční praxe
""")

HOME_SOURCES: dict[str, str] = {  # the job board most jobseekers of a country come from
    "CZ": "Jobs.cz",
    "SK": "Profesia.sk",
    "DE": "StepStone",
    "AT": "Karriere.at",
    "PL": "LinkedIn",
    "HU": "LinkedIn",
}

JOBSEEKER_SOURCES: tuple[tuple[str, bool], ...] = (  # (name, active)
    ("LinkedIn", True),
    ("Jobs.cz", True),
    ("StepStone", True),
    ("Profesia.sk", True),
    ("Karriere.at", True),
    ("Doporučení", True),
    ("Webové stránky", True),
    ("Úřad práce", False),
)

REJECTION_REASONS: tuple[tuple[str, bool], ...] = (
    ("Nedostatečná kvalifikace", True),
    ("Chybějící jazykové znalosti", True),
    ("Příliš vysoké platové požadavky", True),
    ("Nevyhovující termín nástupu", True),
    ("Pozice obsazena jiným uchazečem", True),
    ("Neúspěch u pohovoru", True),
    ("Nereaguje", False),
)

PROJECT_CLOSE_REASONS: tuple[tuple[str, bool], ...] = (
    ("Pozice obsazena", True),
    ("Zrušeno hiring manažerem", True),
    ("Obsazeno interně", True),
    ("Rozpočet nebyl schválen", True),
    ("Duplicitní projekt", False),
)

DEPARTMENTS: tuple[tuple[str, bool], ...] = (
    ("IT", True),
    ("Obchod", True),
    ("Marketing", True),
    ("Finance a účetnictví", True),
    ("Lidské zdroje", True),
    ("Výroba", True),
    ("Logistika", True),
    ("Zákaznická podpora", True),
    ("Právní oddělení", False),
)

LOCATIONS: tuple[tuple[str, str, str, str, bool], ...] = (  # (name, city, postal code, country, active)
    ("Praha – Karlín", "Praha", "186 00", "CZ", True),
    ("Brno – Technologický park", "Brno", "612 00", "CZ", True),
    ("Ostrava", "Ostrava", "702 00", "CZ", True),
    ("Plzeň", "Plzeň", "301 00", "CZ", True),
    ("Bratislava", "Bratislava", "811 01", "SK", True),
    ("Košice", "Košice", "040 01", "SK", True),
    ("Wien", "Wien", "1100", "AT", True),
    ("München", "München", "80331", "DE", True),
    ("Kraków", "Kraków", "31-001", "PL", True),
    ("Budapest", "Budapest", "1051", "HU", True),
    ("Graz", "Graz", "8010", "AT", False),
)

ATTACHMENT_TITLES: dict[str, tuple[str, ...]] = {  # by type; {first} and {last} are the jobseeker's names
    "cv": ("CV_{first}_{last}", "Životopis – {first} {last}", "Lebenslauf {last}", "{last}_{first}_CV", "resume"),
    "cover_letter": ("Motivační dopis", "Anschreiben {last}", "List motywacyjny", "Cover letter – {last}"),
    "certificate": ("Certifikát AWS", "Zeugnis", "Osvědčení o svářečské zkoušce", "Diplom", "Vysvědčení"),
    "other": ("Reference", "Foto", "Portfolio {last}", "Řidičský průkaz", "Potvrzení o bezdlužnosti"),
}

REQUIREMENTS = _phrases("""
    Praxe v oboru alespoň 2 roky; Angličtina na úrovni B2; Řidičský průkaz sk. B; Samostatnost a spolehlivost;
    Pokročilá znalost MS Excel; Ochota učit se nové věci; Vysokoškolské vzdělání technického směru;
    Komunikativní znalost němčiny; Zkušenost s vedením týmu; Flexibilita a odolnost vůči stresu
""")

BENEFITS = _phrases("""
    5 týdnů dovolené; Stravenky; Multisport karta; Home office 2 dny v týdnu; 13. plat; Příspěvek na penzijní
    spoření; Firemní notebook a telefon; Vzdělávací kurzy; Sick days; Flexibilní pracovní doba
""")

FILE_BODY = (
    "Profesní zkušenosti: 2019–dosud samostatná práce na projektech v Praze a Brně; 2015–2019 asistentská pozice."
    "\nVzdělání: Vysoká škola ekonomická (Ing.).\nJazyky: čeština, angličtina (C1), němčina (B1)."
    "\nDovednosti: MS Office, SAP, řidičský průkaz sk. B."
)
