/**
 * CDK's CloudFormation template validation (aws-cdk-lib CloudFormationValidatePlugin, on by
 * default in every app) with its report kept per content: the engine's verdict depends only on
 * the templates, their stacks' account and region, and the engine, so a synth whose templates
 * have not changed reads the report back instead of validating again (seconds per synth).
 * Registered on the App it replaces CDK's own default instance (aws-cdk-lib
 * core/lib/private/synthesis-validation.js: no default plugin when one of this class is
 * registered); the suppressions, severities and failure of the synth are applied by CDK after
 * the plugin, to the cached report as to a fresh one.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CloudFormationValidatePlugin, IPolicyValidationContext, PolicyValidationPluginReport } from 'aws-cdk-lib';
import { cachedDirectory } from './content-cache';

const REPORT_FILE = 'report.json';

/** A report as stored: each template path is the index of its stack in the validation context. */
type StoredReport = PolicyValidationPluginReport;

export class CachedTemplateValidation extends CloudFormationValidatePlugin {
  private static instance?: CachedTemplateValidation;

  /** One per process: the validation engine is expensive to start, and tests make many apps. */
  static shared(): CachedTemplateValidation {
    CachedTemplateValidation.instance ??= new CachedTemplateValidation();
    return CachedTemplateValidation.instance;
  }

  validate(context: IPolicyValidationContext): PolicyValidationPluginReport {
    const stacks = context.stackTemplates.map((stack) => ({
      stack: stack.stackConstructPath,
      file: path.basename(stack.templatePath),
      accountId: stack.accountId ?? null,
      region: stack.region ?? null,
      template: fs.readFileSync(stack.templatePath, 'utf8'),
    }));
    const key = { engine: this.version ?? null, rules: this.ruleIds ?? null, stacks };
    const templatePaths = context.stackTemplates.map((stack) => stack.templatePath);
    const dir = cachedDirectory('validation', 'templates', key, REPORT_FILE, (building) => {
      const stored = withTemplatePaths(super.validate(context), (templatePath) => String(templatePaths.indexOf(templatePath)));
      fs.writeFileSync(path.join(building, REPORT_FILE), JSON.stringify(stored));
    });
    const stored = JSON.parse(fs.readFileSync(path.join(dir, REPORT_FILE), 'utf8')) as StoredReport;
    return withTemplatePaths(stored, (index) => templatePaths[Number(index)] ?? index);
  }
}

/** The report with every violating resource's template path mapped. */
function withTemplatePaths(report: PolicyValidationPluginReport, map: (templatePath: string) => string): PolicyValidationPluginReport {
  return {
    ...report,
    violations: report.violations.map((violation) => ({
      ...violation,
      violatingResources: violation.violatingResources.map((resource) =>
        resource.templatePath === undefined ? resource : { ...resource, templatePath: map(resource.templatePath) },
      ),
    })),
  };
}
