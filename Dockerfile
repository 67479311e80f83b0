# The grading image (PrairieLearn's external grader; usable for any Docker-based grader).
#
#   docker build -t seqmodel-grader .
#
# It holds the dependencies only, installed by autograder/platforms/install.sh: the same
# script Gradescope's setup.sh runs, so there is one install path. The kit (the
# reference, the rubric, the hidden seed) is not in the image: PrairieLearn
# copies the bundle from the course's serverFilesCourse into /grade for each
# job, and its entry script closes it to all but root before grading.
# The grader runs as root (no USER line): it needs root to confine student
# code, which then runs under a uid of its own, never as root.

# Base images can be swapped (--build-arg), e.g. for a local mirror; TORCH_INDEX_URL="" makes pip
# take torch from its own configuration (a wheel folder) instead of PyTorch's CPU index.
ARG PYTHON_IMAGE=python:3.12-slim
ARG BASE_IMAGE=ubuntu:24.04

# The runtime dependencies, read from pyproject.toml by the kit's own code (one list, not a copy).
FROM ${PYTHON_IMAGE} AS requirements
COPY pyproject.toml /kit/pyproject.toml
COPY autograder/__init__.py autograder/rubric.py /kit/autograder/
COPY autograder/platforms/__init__.py autograder/platforms/bundle.py /kit/autograder/platforms/
RUN cd /kit && python3 -c "from autograder.platforms.bundle import requirements_text; print(requirements_text(), end='')" \
    > /requirements.txt

FROM ${BASE_IMAGE}
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# pip's own settings, for a mirror, a wheel folder or a proxy's CA (unset unless given).
ARG PIP_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_CERT
COPY autograder/platforms/install.sh constraints.txt /opt/seqmodel-install/
COPY --from=requirements /requirements.txt /opt/seqmodel-install/requirements.txt
RUN bash /opt/seqmodel-install/install.sh /opt/seqmodel-install && rm -rf /opt/seqmodel-install /var/lib/apt/lists/*
WORKDIR /grade
