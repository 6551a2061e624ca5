"""What the network demo is made of: Demoseutu's units, groups and members, Demo College's own
goals and actions, and its digi group's first kick-off answers (campus.network.demo builds it)."""

from __future__ import annotations

from pathlib import Path

from campus.auth.services import DEMO_ORGANISATION_SLUG
from campus.network.models import DevelopmentArea
from campus.network.models import Focus
from campus.network.models import GoalStatus
from campus.network.models import GroupKind
from campus.network.models import GroupRole

TEMPLATES_DIR = Path("network") / "templates"  # under CONTENT_DIR
REGIONAL_TEMPLATE = "seudullinen-digikehittaminen"
NEW_MUNICIPALITY = ("demo-lake", "Demojärven kunta")  # joined the region this year

UNITS = {
    DEMO_ORGANISATION_SLUG: ("Keskustan kampus", "Satamakadun kampus"),
    "demo-vocational-institute": ("Teollisuustien toimipiste", "Maaseutuopisto"),
    "demo-municipality": ("Kirkonkylän koulu", "Mäntyrinteen koulu", "Demokylän lukio"),
    "demo-town": ("Keskuskoulu", "Järvenrannan koulu"),
}

# (kind, name, mandate); each member is (organisation slug, person number, role).
# Person 0 of the demo organisation is the demo account.
Member = tuple[str, int, GroupRole]
REGION_GROUPS: tuple[tuple[GroupKind, str, str, str | None, tuple[Member, ...]], ...] = (
    (
        GroupKind.STEERING,
        "Demoseudun ohjausryhmä",
        "Sivistysjohtajat ja oppilaitosten johtajat linjaavat seudun digitaalisen kehittämisen "
        "painopisteet ja resurssit sekä hyväksyvät tiekartan ja vuosikellon.",
        None,
        (
            ("demo-municipality", 1, GroupRole.CHAIR),
            ("demo-town", 1, GroupRole.MEMBER),
            ("demo-vocational-institute", 1, GroupRole.MEMBER),
            (DEMO_ORGANISATION_SLUG, 1, GroupRole.SECRETARY),
        ),
    ),
    (
        GroupKind.REGIONAL,
        "Seudullinen TVT-kehittämisryhmä",
        "Yksi edustaja kustakin kunnasta ja oppilaitoksesta. Edustaja vetää oman "
        "organisaationsa digiryhmää ja vie seudun linjaukset sinne.",
        None,
        (
            (DEMO_ORGANISATION_SLUG, 0, GroupRole.CHAIR),
            ("demo-municipality", 2, GroupRole.MEMBER),
            ("demo-town", 2, GroupRole.MEMBER),
            ("demo-vocational-institute", 2, GroupRole.SECRETARY),
        ),
    ),
    (
        GroupKind.TUTORS,
        "Demoseudun tutoropettajaverkosto",
        "Tutoropettajat jakavat hyviä käytänteitä, suunnittelevat yhteiset koulutukset ja "
        "tukevat kollegoita arjen digipedagogiikassa.",
        None,
        (
            (DEMO_ORGANISATION_SLUG, 5, GroupRole.CHAIR),
            ("demo-municipality", 5, GroupRole.MEMBER),
            ("demo-town", 5, GroupRole.MEMBER),
            ("demo-vocational-institute", 5, GroupRole.MEMBER),
        ),
    ),
    (
        GroupKind.THEME,
        "Teematiimi: pedagoginen johtaminen",
        "Digiosaavan teeman 'Opetuksen ja oppimisen sekä pedagogiikan johtaminen' "
        "kehittämistyö seudulla.",
        "pedagogy",
        (
            ("demo-vocational-institute", 3, GroupRole.LEAD),
            (DEMO_ORGANISATION_SLUG, 3, GroupRole.DEVELOPER),
            ("demo-town", 3, GroupRole.PARTICIPANT),
        ),
    ),
)
DIGI_GROUPS: tuple[tuple[str, str, tuple[Member, ...]], ...] = (
    (
        DEMO_ORGANISATION_SLUG,
        "Demo Collegen digiryhmä",
        (
            (DEMO_ORGANISATION_SLUG, 0, GroupRole.CHAIR),
            (DEMO_ORGANISATION_SLUG, 2, GroupRole.SECRETARY),
            (DEMO_ORGANISATION_SLUG, 3, GroupRole.MEMBER),
            (DEMO_ORGANISATION_SLUG, 5, GroupRole.MEMBER),
        ),
    ),
    (
        "demo-municipality",
        "Demokylän digiryhmä",
        (
            ("demo-municipality", 2, GroupRole.CHAIR),
            ("demo-municipality", 5, GroupRole.MEMBER),
        ),
    ),
    (
        "demo-town",
        "Demolan digiryhmä",
        (
            ("demo-town", 4, GroupRole.CHAIR),
            ("demo-town", 2, GroupRole.MEMBER),  # the regional representative, not its chair
            ("demo-town", 5, GroupRole.MEMBER),
        ),
    ),
    (
        "demo-vocational-institute",
        "Ammattiopiston digiryhmä",
        (
            ("demo-vocational-institute", 2, GroupRole.CHAIR),
            ("demo-vocational-institute", 5, GroupRole.MEMBER),
        ),
    ),
)

# Demo College's own goals: (area, focus, title, target, regional goal index it serves, status)
COLLEGE_GOALS = (
    (
        DevelopmentArea.COMPETENCE,
        Focus.LEARNING,
        "Jokainen opettaja suunnittelee yhden verkkojakson tutoropettajan tuella",
        "Kaikilla opettajilla on vähintään yksi itse suunniteltu verkko- tai hybridijakso.",
        2,
        GoalStatus.IN_PROGRESS,
    ),
    (
        DevelopmentArea.INFRASTRUCTURE,
        Focus.TRUST,
        "Uusien opiskelijoiden laitteet ja tunnukset toimivat ensimmäisenä päivänä",
        "Aloituspäivän tukipyynnöt puolittuvat; jokainen opiskelija kirjautuu ensimmäisenä "
        "päivänä.",
        4,
        GoalStatus.ACHIEVED,
    ),
    (
        DevelopmentArea.SERVICES,
        Focus.COMMUNITY,
        "Digituki kampuksilla: tutoropettajan vastaanotto joka viikko",
        "Molemmilla kampuksilla on viikoittainen digituen vastaanotto.",
        None,
        GoalStatus.PLANNED,
    ),
)
COLLEGE_STARTING_POINTS = (
    "Verkkojaksoja on suunnitellut noin kolmannes opettajista; tutoropettajien tuki on "
    "satunnaista.",
    "Elokuussa 2025 aloituspäivän tukipyyntöjä tuli 140; joka viides opiskelija ei päässyt "
    "kirjautumaan ensimmäisenä päivänä.",
    "Digitukea saa sähköpostilla; kampuksilla ei ole vastaanottoa.",
)
# The first goal's measured starting point: the staff self-assessment's competence area.
COLLEGE_MEASURE = ("staff-digital-competence", "staff-competence")

COLLEGE_ACTIONS = (
    ("Uuden henkilöstön digiperehdytys", 8, 8, 8, 20, GroupKind.DIGI),
    ("Tutoropettajien vastaanottojen suunnittelu", 9, 1, 9, 15, GroupKind.DIGI),
    ("Digiryhmän kevätkatsaus", 5, None, 5, None, GroupKind.DIGI),
)


# The first answers of Demo College's digi group to the kick-off questions (the rest are open).
KICKOFF_ANSWERS = (
    "Digiryhmä toteuttaa seudun tiekarttaa Demo Collegessa ja päättää vuosikellon toimista.",
    "Puheenjohtaja (seudun edustaja), sihteeri, kampusten tutoropettajat ja IT-tuki.",
    "Lähtötilakartoituksen mukaan vahvuutemme on laitekanta; heikoin on arvioinnin digitaalisuus.",
)
