'use strict';

/**
 * Adds `custom.templateRules` to the compiled template as its top-level `Rules` section.
 *
 * osls merges `resources` into the template but its schema only allows the usual sections
 * (Resources, Outputs, Conditions, ...), not `Rules`. CloudFormation checks Rules before it
 * creates or updates anything, so a template packaged for us-east-1 and deployed elsewhere
 * (`osls deploy --package`, the console, a pipeline) stops with the rule's message.
 */
class TemplateRulesPlugin {
  constructor(serverless) {
    this.serverless = serverless;
    serverless.configSchemaHandler.defineCustomProperties({
      type: 'object',
      properties: {
        templateRules: {
          type: 'object',
          patternProperties: {
            '^[A-Za-z0-9]{1,255}$': {
              type: 'object',
              properties: { RuleCondition: { type: 'object' }, Assertions: { type: 'array' } },
              required: ['Assertions'],
              additionalProperties: false,
            },
          },
          additionalProperties: false,
        },
      },
    });
    this.hooks = {
      'after:aws:package:finalize:mergeCustomProviderResources': () => this.addRules(),
    };
  }

  addRules() {
    const rules = this.serverless.service.custom && this.serverless.service.custom.templateRules;
    if (!rules || !Object.keys(rules).length) return;
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    template.Rules = { ...template.Rules, ...rules };
  }
}

module.exports = TemplateRulesPlugin;
