"""Reading and resolving the AWS CLI's config: the INI dialect, the two files, which profile
a run is for, what a profile resolves to, and where its calls go (region, endpoints).

Pure and the lowest layer: imports only the shared leaves (`awsrun.errors`), never boto3
or another awsrun folder. This face stays empty: each import here is paid on every run.
"""
