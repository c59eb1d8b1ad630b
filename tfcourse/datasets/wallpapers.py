"""Photographic desktop wallpapers and two paintings from Debian packages (offline images).

The training photos of fast neural style beside the OpenCV samples: distinct
natural scenes (landscapes, plants, animals, objects, a street, a castle) at
1-25 megapixels.  Each file is taken from its Debian package (``apt-get
download`` into a temporary folder, no root needed, but the apt package lists
must exist: ``apt-get update`` as root once) and checked by MD5.

* :data:`PHOTOS` (33): ``lomiri-wallpapers-16.04`` (14, the Ubuntu 16.04
  wallpaper contest, CC-BY-4.0 / CC-BY-SA-4.0 / CC0-1.0 per file),
  ``lomiri-wallpapers-20.04`` (2, CC-BY-SA-4.0 / CC-BY-4.0),
  ``mate-backgrounds`` ``nature/`` (12, GPL-2+), ``palapeli-data``'s puzzle
  photos (5, GPL-2+).
* :data:`PAINTINGS` (style images): ``Elephants.jpg`` (a painting by Wyng
  Stancikaite, 2020, ``mate-backgrounds``, GPL-2+) and ``string.jpg`` (digital
  art of painted ribbons, Ubuntu Kylin community, ``ukui-wallpapers``,
  CC-BY-SA-3.0).
"""
import os

from tfcourse.datasets import _common

NAME = "wallpapers"
ORDER = 73
DESCRIPTION = ("33 photographic wallpapers + 2 paintings from Debian lomiri-wallpapers-16.04/"
               "-20.04, mate-backgrounds, palapeli-data, ukui-wallpapers (CC-BY(-SA), CC0, "
               "GPL-2+; 70 MB)")

LOMIRI_16 = "usr/share/backgrounds/"
#: Debian package -> (folder inside it, {file name: MD5})
PACKAGES = {
    "lomiri-wallpapers-16.04": (LOMIRI_16, {
        "Bridge_by_Sander_Klootwijk.jpg": "fe4903edd1db5fe29f2267d7876770e6",
        "Dragonfly_by_Bolly.jpg": "599228cd246283c7fba376e5354a6e03",
        "Picture_0B_by_freespace.jpg": "96edee036ac6b5d789111230aedef20b",
        "Picture_1A_by_freespace.jpg": "95cc6538cf1e8d62e4f496767c128036",
        "Wine_by_Jakkub_Mede.jpg": "e66d2e48a0a9ee87d925dbe38ef9d2ff",
        "aitzgorri_by_Aitzol_Berasategi.jpg": "7d13f3e78bbad10e2bc0487c3dd80e6c",
        "analogpattern_by_Peter_Nerlich.jpg": "631097bdff4d4cb3badf209050bb7ba9",
        "free_by_Peter_Nerlich.jpg": "32d7173269315b3e7df4f170e76e8f28",
        "friends_by_Aitzol_Berasategi.jpg": "7c04388de6179c8d99d45dd7cd241706",
        "greentock_by_Peter_Nerlich.jpg": "c96bf91f15753f558608c9b2ab874525",
        "life_by_Aitzol_Berasategi.jpg": "03f2ca37ae56f1105c1e2cfa35ec3d6f",
        "picosdeeuropa_by_Aitzol_Berasategi.jpg": "c05a3bbe70a0bbdd6f39e26482986223",
        "seeding_by_Clements_Engelhardt.jpg": "7e5ffcae2cd6a9d7fb9221bdb38c98e7",
        "sunset_by_Aitzol_Berasategi.jpg": "35f4bb7d497987709538f4bc5b24513b",
    }),
    "lomiri-wallpapers-20.04": ("usr/share/backgrounds/", {
        "Infinite-Sea_by_Aury88.jpg": "d845654bb1cd1ec9773e2f2ec053d44c",
        "Kleiber_by_Lukas_Baubkus.jpg": "f9cd0fb79c4985921dbe618ac12feaec",
    }),
    "mate-backgrounds": ("usr/share/backgrounds/mate/nature/", {
        "Aqua.jpg": "bb9d83532a31223343a044d25242dcd6",
        "Blinds.jpg": "aa8c959b44dab9cb85ad5f3dc0c85f51",
        "Dune.jpg": "c56a7b8ac1a9a25b3a5d9965c1e1ee15",
        "FreshFlower.jpg": "3a94856c33abf72d5120897a492e68a2",
        "Garden.jpg": "4164703bd7b6f087358e87f3aa296c4a",
        "GreenMeadow.jpg": "a39f784809c4550e12427ad463b8d8e7",
        "LadyBird.jpg": "32268be4325293ad107c6f595607e7ba",
        "RainDrops.jpg": "ab77b2ceef702553108c377d86ce2817",
        "Storm.jpg": "7f3abd21e0ee03b40b4fb8c7874575e5",
        "TwoWings.jpg": "b627e9c299a88d63f3eb40a0da68999a",
        "Wood.jpg": "efe68ac15751369fe829a6e7b6740b82",
        "YellowFlower.jpg": "b6167ae420518663a9f7f112aa7abc49",
    }),
    "palapeli-data": ("usr/share/palapeli/collection/", {
        "castle-maintenon.jpg": "e08f02bc94e18adb031e8ed8876da94e",
        "cincinnati-bridge.jpg": "49d0780528b96c79784ec20b31912e4b",
        "citrus-fruits.jpg": "c95a1c48f6531ccd5f74e21ee22ef1bb",
        "european-honey-bee.jpg": "cb534b0f6d90e7a90dadce59dd6c7618",
        "panther-chameleon-female.jpg": "f77bffc041923fd701407f9d546abdbe",
    }),
}
#: style images: name -> (Debian package, folder inside it, MD5)
PAINTINGS = {
    "Elephants.jpg": ("mate-backgrounds", "usr/share/backgrounds/mate/abstract/",
                      "03bcdc6560e306a7f0750d23964e80dc"),
    "string.jpg": ("ukui-wallpapers", "usr/share/backgrounds/",
                   "3df74db8e5801bfb50ab0525890a2077"),
}
PHOTOS = {name: digest for _, files in PACKAGES.values() for name, digest in files.items()}
FILES = dict(PHOTOS, **{name: entry[2] for name, entry in PAINTINGS.items()})


def _members():
    """{Debian package: [(member path, file name)]} of every file."""
    members = {}
    for package, (folder, files) in PACKAGES.items():
        members.setdefault(package, []).extend((folder + name, name) for name in files)
    for name, (package, folder, _) in PAINTINGS.items():
        members.setdefault(package, []).append((folder + name, name))
    return members


def _good(path, name):
    return os.path.exists(path) and _common.md5(path) == FILES[name]


def is_present(target_dir):
    return all(_good(os.path.join(target_dir, name), name) for name in FILES)


def photo_paths(data_dir):
    """The paths of the photos in ``data_dir`` (those present), sorted."""
    return [os.path.join(data_dir, n) for n in sorted(PHOTOS)
            if os.path.isfile(os.path.join(data_dir, n))]


def fetch(target_dir, offline=False, log=print):
    if is_present(target_dir):
        return "wallpapers already in %s (checksums verified)" % target_dir
    with _common.staging_dir(target_dir) as staging:
        used = []
        for package, members in _members().items():
            wanted = [m for m, n in members if not _good(os.path.join(target_dir, n), n)]
            if wanted:
                used.append(_common.deb_members(package, wanted, staging, log=log))
        bad = [n for n in FILES if not _good(os.path.join(staging, n), n)
               and not _good(os.path.join(target_dir, n), n)]
        if bad:
            raise _common.UserError("%s failed their checksums; the Debian packages changed, "
                                    "please report it" % ", ".join(bad))
        _common.install_files(staging, target_dir,
                              [n for n in FILES if os.path.exists(os.path.join(staging, n))])
    return "wallpapers: %d files from Debian %s into %s (checksums verified)" % (
        len(FILES), ", ".join(used), target_dir)
