"""deploy/: the systemd units pass `systemd-analyze verify` and are hardened; the SAM template
parses and declares everything the function needs; the Lambda configuration is valid for the
binary; the container file is multi-stage and runs as a non-root user.
"""
import os
import re
import subprocess

import yaml

from etl import BIN, JHU, NYT, REPO, TempDirTest, cli

DEPLOY = os.path.join(REPO, "deploy")


def read(*path):
    with open(os.path.join(DEPLOY, *path)) as f:
        return f.read()


class SystemdUnits(TempDirTest):
    UNITS = ("covid-etl.service", "covid-etl-run.service", "covid-etl-run.timer")

    def test_units_verify_cleanly(self):
        paths = []
        for unit in self.UNITS:  # point ExecStart at the binary just built: verify checks it exists
            paths.append(self.write(unit, read("systemd", unit).replace("/usr/local/bin/covid-etl", BIN)))
        p = subprocess.run(["systemd-analyze", "verify", "--man=no", *paths], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([l for l in (p.stdout + p.stderr).splitlines() if self.tmp in l], [])

    def test_a_broken_unit_is_caught(self):  # the check above can fail
        bad = self.write("bad.service", read("systemd", "covid-etl.service")
                         .replace("/usr/local/bin/covid-etl", BIN).replace("ProtectSystem=strict", "ProtectSystem=bogus"))
        p = subprocess.run(["systemd-analyze", "verify", "--man=no", bad], capture_output=True, text=True)
        self.assertIn("bad.service", p.stdout + p.stderr)

    def test_the_daemon_is_hardened(self):
        unit = read("systemd", "covid-etl.service")
        for line in ("DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=covid-etl", "Restart=on-failure",
                     "NoNewPrivileges=yes", "ExecReload=/bin/kill -HUP $MAINPID"):
            self.assertIn(line, unit)
        self.assertIn("covid-etl daemon", unit)
        self.assertIn("OnCalendar=", read("systemd", "covid-etl-run.timer"))
        self.assertIn("Type=oneshot", read("systemd", "covid-etl-run.service"))


class CloudFormation(TempDirTest):
    def template(self):
        class Loader(yaml.SafeLoader):
            pass

        def intrinsic(loader, tag_suffix, node):  # !Ref, !Sub, !GetAtt ... as plain values
            if isinstance(node, yaml.ScalarNode):
                return {tag_suffix: loader.construct_scalar(node)}
            if isinstance(node, yaml.SequenceNode):
                return {tag_suffix: loader.construct_sequence(node)}
            return {tag_suffix: loader.construct_mapping(node)}

        Loader.add_multi_constructor("!", intrinsic)
        return yaml.load(read("aws", "template.yaml"), Loader=Loader)

    def test_the_template_declares_what_the_function_needs(self):
        t = self.template()
        r = t["Resources"]
        types = {name: res["Type"] for name, res in r.items()}
        self.assertEqual(types, {"DataTable": "AWS::DynamoDB::Table", "MetaTable": "AWS::DynamoDB::Table",
                                 "Topic": "AWS::SNS::Topic", "Function": "AWS::Serverless::Function",
                                 "SiteBucket": "AWS::S3::Bucket", "SiteBucketPolicy": "AWS::S3::BucketPolicy",
                                 "SiteOriginAccessControl": "AWS::CloudFront::OriginAccessControl",
                                 "SiteDistribution": "AWS::CloudFront::Distribution"})
        fn = r["Function"]["Properties"]
        self.assertEqual((fn["PackageType"], fn["ImageConfig"]["Command"]), ("Image", ["lambda"]))
        self.assertEqual(r["Function"]["Metadata"]["Dockerfile"], "deploy/container/Dockerfile")
        self.assertIn("COPY deploy/aws/covid-etl.toml " + fn["Environment"]["Variables"]["COVID_ETL_CONFIG"],
                      read("container", "Dockerfile"))
        self.assertEqual(fn["Events"]["Daily"]["Type"], "ScheduleV2")
        env = fn["Environment"]["Variables"]
        self.assertEqual(env["COVID_ETL_DB"], {"Sub": "dynamodb://${TableName}?region=${AWS::Region}"})
        self.assertEqual(env["COVID_ETL_SNS_TOPIC_ARN"], {"Ref": "Topic"})
        # The tables the binary uses: TABLE keyed by location and date, and TABLE-meta.
        data = r["DataTable"]["Properties"]
        self.assertEqual([k["AttributeName"] for k in data["KeySchema"]], ["location", "date"])
        self.assertEqual(r["MetaTable"]["Properties"]["TableName"], {"Sub": "${TableName}-meta"})
        # Least privilege: CRUD on the two tables and publishing to the topic, nothing else.
        policies = [list(p)[0] for p in fn["Policies"]]
        self.assertEqual(sorted(policies), ["DynamoDBCrudPolicy", "DynamoDBCrudPolicy", "SNSPublishMessagePolicy",
                                            "Statement"])
        self.assertEqual(env["COVID_ETL_PUBLISH_TO"], {"Sub": "s3://${SiteBucket}/${SitePrefix}?region=${AWS::Region}"})
        [site] = [p["Statement"] for p in fn["Policies"] if "Statement" in p]
        self.assertEqual(len(site), 2)
        write, list_ = site
        self.assertEqual(sorted(write["Action"]), ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"])
        self.assertEqual(write["Resource"], {"Sub": "${SiteBucket.Arn}/${SitePrefix}/*"})
        # S3 answers a GET of a missing key (the manifest, before the first publish) with 403, not
        # 404, unless the caller may list the bucket: ListBucket on the bucket, for the prefix only.
        self.assertEqual((list_["Effect"], list_["Action"]), ("Allow", "s3:ListBucket"))
        self.assertEqual(list_["Resource"], {"GetAtt": "SiteBucket.Arn"})
        self.assertEqual(list_["Condition"], {"StringLike": {"s3:prefix": {"Sub": "${SitePrefix}/*"}}})

    def test_the_site_bucket_is_private_behind_cloudfront(self):
        r = self.template()["Resources"]
        block = r["SiteBucket"]["Properties"]["PublicAccessBlockConfiguration"]
        self.assertEqual(block, {"BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True,
                                 "RestrictPublicBuckets": True})
        dist = r["SiteDistribution"]["Properties"]["DistributionConfig"]
        [origin] = dist["Origins"]
        self.assertEqual(origin["OriginAccessControlId"], {"GetAtt": "SiteOriginAccessControl.Id"})
        self.assertEqual(origin["DomainName"], {"GetAtt": "SiteBucket.RegionalDomainName"})
        self.assertEqual(origin["OriginPath"], {"Sub": "/${SitePrefix}"})
        self.assertTrue(dist["DefaultCacheBehavior"]["Compress"])
        self.assertEqual(dist["DefaultCacheBehavior"]["ViewerProtocolPolicy"], "redirect-to-https")
        self.assertEqual(dist["DefaultRootObject"], "index.html")
        oac = r["SiteOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
        self.assertEqual((oac["OriginAccessControlOriginType"], oac["SigningBehavior"]), ("s3", "always"))
        # The bucket policy lets that one distribution read, nothing else.
        policy = r["SiteBucketPolicy"]["Properties"]
        self.assertEqual(policy["Bucket"], {"Ref": "SiteBucket"})
        [statement] = policy["PolicyDocument"]["Statement"]
        self.assertEqual((statement["Effect"], statement["Action"]), ("Allow", "s3:GetObject"))
        self.assertEqual(statement["Principal"], {"Service": "cloudfront.amazonaws.com"})
        self.assertIn("${SiteDistribution}", statement["Condition"]["StringEquals"]["AWS:SourceArn"]["Sub"])
        sub = r["Topic"]["Properties"]["Subscription"][0]
        self.assertEqual((sub["Protocol"], sub["Endpoint"]), ("email", {"Ref": "NotificationEmail"}))

    def test_the_lambda_configuration_is_valid(self):
        config = os.path.join(DEPLOY, "aws", "covid-etl.toml")
        env = {"COVID_ETL_SNS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:t", "AWS_REGION": "us-east-1"}
        p = cli("run", "--config", config, "--dry-run", "--db", self.db, "--nyt", NYT, "--jhu", JHU, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        p = cli("run", "--config", config, "--dry-run", "--db", self.db, "--nyt", NYT, "--jhu", JHU)
        self.assertEqual(p.returncode, 64)
        self.assertIn("COVID_ETL_SNS_TOPIC_ARN", p.stderr)


class ContainerFile(TempDirTest):
    def test_multi_stage_non_root_with_a_volume(self):
        text = read("container", "Dockerfile")
        self.assertEqual(re.findall(r"^FROM (\S+)", text, re.M), ["debian:bookworm-slim", "debian:bookworm-slim"])
        user = re.findall(r"^USER (\S+)", text, re.M)
        self.assertEqual(len(user), 1)
        self.assertNotIn(user[0], ("root", "0"))
        self.assertRegex(text, r"(?m)^VOLUME /var/lib/covid-etl$")
        self.assertRegex(text, r'(?m)^CMD \["daemon"')
        self.assertNotRegex(text, r"(?m)^ADD https?://")
