"""De-identification of DICOM objects for trial-imaging.

The same engine runs in the Lambda (``deidentify.handler``) and on a local folder
(``python -m deidentify run``). Import-light on purpose: the Lambda package ships only
the dependencies in ``requirements-lambda.txt``.
"""

ENGINE_NAME = "trial-imaging deidentify"
ENGINE_VERSION = "0.1.0"
