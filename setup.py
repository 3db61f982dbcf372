"""Package metadata for seqgan_tf (console script `seqgan-tf`)."""

import pathlib

from setuptools import find_packages
from setuptools import setup

HERE = pathlib.Path(__file__).parent


# The documentation site (mkdocs.yml); the tests build it too.
DOCS = [
    "mkdocs==1.6.1",
    "mkdocs-material==9.8.2",
    "mkdocstrings[python]==1.0.8",
    "mkdocstrings-python==2.0.11",
]


def requirements():
    lines = (HERE / "requirements.txt").read_text().splitlines()
    return [line for line in lines if line and not line.startswith("#")]


setup(
    name="seqgan-tf",
    version="0.1.0",
    description=(
        "SeqGAN (Yu et al., AAAI 2017) for TensorFlow 2 / Keras 3: sequence "
        "GANs with policy-gradient training and TF Serving export."
    ),
    long_description=(HERE / "README.md").read_text(encoding="utf-8")
    if (HERE / "README.md").exists()
    else "",
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["seqgan_tf", "seqgan_tf.*"]),
    package_data={"seqgan_tf": ["resources/*", "resources/*/*"]},
    include_package_data=True,
    install_requires=requirements(),
    extras_require={
        "music": ["music21==10.5.1"],
        "docs": DOCS,
        "test": [
            *DOCS,
            "pytest>=8",
            "pytest-timeout>=2.3",
            "pytest-xdist>=3.6",
            "ruff==0.17.6",
            "music21==10.5.1",
            "nbclient==0.11.0",
            "nbformat==5.11.1",
            "ipykernel==7.4.0",
        ],
    },
    entry_points={"console_scripts": ["seqgan-tf=seqgan_tf.cli:main"]},
    license="Apache-2.0",
    classifiers=[
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
