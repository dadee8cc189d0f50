#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ExampleStack } from './example-stack';

const app = new App();
new ExampleStack(app, 'ImportedKmsKeyExample');
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
